# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The asynchronous export behaviours, against the patched real Isaac Lab 3.0.0 (an env double, no simulator).

The checks are in ``scripts/async_export_checks.py`` and run with the upstream python; see its docstring.
"""

from __future__ import annotations

import json
import time

import pytest
from hdf5_compare import compare_files
from upstream_harness import SCRIPTS_DIR, TIMINGS, run_upstream

pytestmark = [pytest.mark.upstream, pytest.mark.timeout(1800)]

IN_PROCESS_CHECKS = ("equivalence", "backpressure", "write_errors", "close_drain")
CHECKS_SCRIPT = str(SCRIPTS_DIR / "async_export_checks.py")


def parse_results(stdout: str) -> dict[str, dict]:
    """The JSON result lines of ``async_export_checks.py``, by check name."""
    results = {}
    for line in stdout.splitlines():
        if line.startswith('{"check"'):
            result = json.loads(line)
            results[result["check"]] = result
    return results


@pytest.fixture(scope="module")
def check_results(patched_upstream, tmp_path_factory) -> tuple[dict[str, dict], object]:
    """Runs the in-process checks once, in one upstream process; returns their results and output folder."""
    output_dir = tmp_path_factory.mktemp("async_checks")
    start = time.perf_counter()
    result = run_upstream(
        patched_upstream.env,
        [CHECKS_SCRIPT, *IN_PROCESS_CHECKS, "--output_dir", str(output_dir)],
        overlay=patched_upstream.overlay,
        cwd=output_dir,
        check=False,
    )
    TIMINGS["async export checks"] = time.perf_counter() - start
    results = parse_results(result.stdout)
    missing = set(IN_PROCESS_CHECKS) - set(results)
    assert not missing, f"checks without a result {missing}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return results, output_dir


def assert_check(results: dict[str, dict], name: str) -> dict:
    result = results[name]
    assert result["ok"], f"{name}: {result['error']}\n{result.get('traceback', '')}"
    return result


def test_sync_async_and_offload_write_identical_files(check_results):
    """Sync, async and async+offload runs of the same job: the same demos, values and attributes."""
    result = assert_check(check_results[0], "equivalence")
    assert result["episodes"] > 40


def test_patched_sync_writes_the_files_of_the_unpatched_recorder(patched_upstream, check_results, tmp_path):
    """With both flags off, the patched recorder writes what Isaac Lab 3.0.0's own recorder writes."""
    assert_check(check_results[0], "equivalence")
    run_upstream(
        patched_upstream.env,
        [CHECKS_SCRIPT, "record", "--mode", "sync", "--output_dir", str(tmp_path)],
        overlay=None,  # the pristine Isaac Lab 3.0.0
        cwd=tmp_path,
    )
    for filename in ("dataset.hdf5", "dataset_failed.hdf5"):
        differences = compare_files(str(check_results[1] / "sync" / filename), str(tmp_path / "sync" / filename))
        assert not differences, f"{filename}: " + "\n".join(differences[:20])


def test_backpressure_loses_nothing(check_results):
    """A one-episode queue with large episodes: the caller blocks, every episode is written intact and in order."""
    result = assert_check(check_results[0], "backpressure")
    assert result["blocked_seconds"] > 0 and result["peak_queue_depth"] <= 1


def test_write_errors_surface_at_export_flush_and_close(check_results):
    """A failing write raises EpisodeWriteError at the next export, flush() and close(), counting what was lost."""
    result = assert_check(check_results[0], "write_errors")
    assert set(result["messages"]) == {"export", "flush", "close"}


def test_close_drains_the_queue(check_results):
    """close() returns once every queued episode is in the file."""
    result = assert_check(check_results[0], "close_drain")
    assert result["queued_at_close"] > 0


def test_interpreter_exit_drains_the_queue(patched_upstream, tmp_path):
    """A program that exports asynchronously and ends without close() still writes every episode."""
    start = time.perf_counter()
    for check in ("exit_drain", "exit_drain_written"):
        result = run_upstream(
            patched_upstream.env,
            [CHECKS_SCRIPT, check, "--output_dir", str(tmp_path)],
            overlay=patched_upstream.overlay,
            cwd=tmp_path,
            check=False,
        )
        results = parse_results(result.stdout)
        assert check in results, f"{check}: no result (exit {result.returncode}):\n{result.stderr[-4000:]}"
        assert_check(results, check)
        assert result.returncode == 0, f"{check} exited {result.returncode}:\n{result.stderr[-4000:]}"
    TIMINGS["exit drain check"] = time.perf_counter() - start
    assert results["exit_drain_written"]["queued_at_exit"] > 0
