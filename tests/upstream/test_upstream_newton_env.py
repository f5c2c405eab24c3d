# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""A real ManagerBasedRLEnv of Isaac Lab 3.0.0 on Newton (CPU) records identical files in every export mode.

``scripts/newton_env_recording.py`` records a scene of primitive shapes with ``ActionStateRecorderManagerCfg`` over
staggered resets of 4 envs: once with the unpatched Isaac Lab (sync), and with the patched one in sync, async and
async+offload modes. Isaac Lab 3.0.0's unpatched ``HDF5DatasetFileHandler`` then loads every episode of every file.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hdf5_compare import compare_files
from upstream_harness import SCRIPTS_DIR, TIMINGS, run_upstream

pytestmark = [pytest.mark.upstream, pytest.mark.timeout(1800)]

RUNS = {"unpatched": "sync", "sync": "sync", "async": "async", "async_offload": "async_offload"}
"""Recording runs: name -> recorder mode (the "unpatched" run uses the pristine Isaac Lab 3.0.0)."""
FILES = ("dataset.hdf5", "dataset_failed.hdf5")


@pytest.fixture(scope="module")
def recordings(patched_upstream, tmp_path_factory) -> tuple[object, dict[str, dict]]:
    """Records every run; returns the output folder (one sub-folder per run) and each run's JSON summary."""
    output_dir = tmp_path_factory.mktemp("newton")

    def record(run: str) -> dict:
        start = time.perf_counter()
        result = run_upstream(
            patched_upstream.env,
            [str(SCRIPTS_DIR / "newton_env_recording.py"), "--mode", RUNS[run], "--output_dir", str(output_dir / run)],
            overlay=None if run == "unpatched" else patched_upstream.overlay,
            cwd=output_dir,
        )
        TIMINGS[f"Newton env recording ({run})"] = time.perf_counter() - start
        return json.loads(result.stdout.strip().splitlines()[-1])

    # the first run alone: on a cold cache warp compiles its kernels then, once; the others share the cores
    summaries = {"sync": record("sync")}
    with ThreadPoolExecutor(max_workers=max(1, min(3, os.cpu_count() or 1))) as pool:
        others = [run for run in RUNS if run != "sync"]
        summaries.update(zip(others, pool.map(record, others)))
    return output_dir, summaries


def test_every_mode_records_the_same_episodes(recordings):
    """Every run exports the same numbers of succeeded and failed episodes, several of each."""
    _, summaries = recordings
    counts = {run: summary["exported"] for run, summary in summaries.items()}
    assert len({json.dumps(count, sort_keys=True) for count in counts.values()}) == 1, counts
    assert counts["sync"]["succeeded"] >= 5 and counts["sync"]["failed"] >= 5, counts


def test_sync_async_and_offload_files_are_identical(recordings):
    """The patched recorder's files in sync, async and async+offload modes: same names, values, attributes."""
    output_dir, _ = recordings
    for run in ("async", "async_offload"):
        for filename in FILES:
            differences = compare_files(str(output_dir / "sync" / filename), str(output_dir / run / filename), True)
            assert not differences, f"{run}/{filename}: " + "\n".join(differences[:20])


def test_patched_sync_files_are_those_of_unpatched_isaaclab(recordings):
    """With both flags off, the patched recorder's files hold what the unpatched Isaac Lab 3.0.0 writes."""
    output_dir, _ = recordings
    for filename in FILES:
        differences = compare_files(str(output_dir / "unpatched" / filename), str(output_dir / "sync" / filename))
        assert not differences, f"{filename}: " + "\n".join(differences[:20])


def test_unpatched_isaaclab_reads_every_episode(patched_upstream, recordings):
    """Isaac Lab 3.0.0's own (unpatched) HDF5DatasetFileHandler loads every episode the patched recorder wrote."""
    output_dir, summaries = recordings
    paths = [str(output_dir / run / filename) for run in ("sync", "async", "async_offload") for filename in FILES]
    start = time.perf_counter()
    result = run_upstream(
        patched_upstream.env, [str(SCRIPTS_DIR / "read_datasets.py"), *paths], overlay=None, cwd=output_dir
    )
    TIMINGS["read back (unpatched reader)"] = time.perf_counter() - start
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["handler_file"].startswith(str(patched_upstream.env.site_packages)), report["handler_file"]
    for run in ("sync", "async", "async_offload"):
        exported = summaries[run]["exported"]
        succeeded = report["files"][str(output_dir / run / "dataset.hdf5")]
        failed = report["files"][str(output_dir / run / "dataset_failed.hdf5")]
        assert (succeeded["episodes"], failed["episodes"]) == (exported["succeeded"], exported["failed"]), report
        assert succeeded["succeeded"] == succeeded["episodes"] and failed["succeeded"] == 0, report
