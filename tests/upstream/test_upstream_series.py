# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The series of pull requests applies to the real Isaac Lab 3.0.0 one patch after the other, and after each patch
Isaac Lab's own tests and the tests that patch carries pass; the first patch alone records a Newton env identically
in sync and async mode.

The series is exported with ``./isaaclab.sh --export-series`` (wheel mode) and applied with ``patch -p3`` to copies of
the installed packages, as a user of a pip-installed Isaac Lab would apply it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hdf5_compare import compare_files
from test_upstream_isaaclab import UPSTREAM_TESTS, junit_outcomes
from upstream_harness import OVERLAY_PACKAGES, SCRIPTS_DIR, TIMINGS, apply_patch, run_upstream

pytestmark = [pytest.mark.upstream, pytest.mark.timeout(1800)]

SERIES_LENGTH = 7
"""The pull requests of the series (a test below checks the exported series has this many)."""


def _patches(series: Path) -> list[Path]:
    return [series / name for name in (series / "series").read_text().split()]


def _overlay_after(upstream_env, series: Path, count: int, directory: Path) -> Path:
    """Copies of the installed packages with the first ``count`` patches applied, one after the other.

    Raises:
        AssertionError: If a patch does not apply after the ones before it.
    """
    for package in OVERLAY_PACKAGES:
        shutil.copytree(upstream_env.site_packages / package, directory / package)
    for patch in _patches(series)[:count]:
        result = apply_patch(patch, directory)
        assert result.returncode == 0, f"{patch.name} does not apply after the ones before it:\n{result.stdout}"
    (directory / "pytest.ini").write_text("[pytest]\nmarkers =\n    unit: Isaac Lab's unit tests\n")
    return directory


@dataclass
class PrefixRun:
    """What applying patches 1..count and running the tests gave."""

    carried: list[str]
    """The test files the last patch carries (overlay paths)."""
    returncode: int | None = None
    output: str = ""
    outcomes: dict[str, str] = field(default_factory=dict)
    """Each test's outcome, from the JUnit report."""
    apply_error: str | None = None
    """Why a patch did not apply (then nothing ran)."""


def _run_prefix(upstream_env, series: Path, count: int, directory: Path) -> PrefixRun:
    """Apply patches 1..count to a copy of Isaac Lab 3.0.0 and run its recorder and Mimic tests and the tests patch
    ``count`` carries."""
    start = time.perf_counter()
    run = PrefixRun(carried=_carried_tests(_patches(series)[count - 1]))
    try:
        overlay = _overlay_after(upstream_env, series, count, directory / "overlay")
    except AssertionError as error:
        run.apply_error = str(error)
        return run
    own_tests = [str(Path("isaaclab") / "source" / path) for path, number in UPSTREAM_TESTS.items() if number]
    report = directory / "report.xml"
    result = run_upstream(
        upstream_env,
        ["-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib", f"--junitxml={report}", "-q"]
        + own_tests
        + run.carried,
        overlay=overlay,
        cwd=overlay,
        check=False,
    )
    TIMINGS[f"series prefix {count} (run beside the others)"] = time.perf_counter() - start
    run.returncode, run.output = result.returncode, result.stdout
    run.outcomes = junit_outcomes(report) if report.is_file() else {}
    return run


@pytest.fixture(scope="module")
def prefix_runs(upstream_env, exported_series, tmp_path_factory) -> dict[int, PrefixRun]:
    """Every prefix of the series applied and tested, as many at a time as there are cores (each run is one
    single-threaded pytest process)."""
    directories = {count: tmp_path_factory.mktemp(f"prefix{count}") for count in range(1, SERIES_LENGTH + 1)}
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        futures = {
            count: pool.submit(_run_prefix, upstream_env, exported_series, count, directory)
            for count, directory in directories.items()
        }
        runs = {count: future.result() for count, future in futures.items()}
    TIMINGS["series prefixes 1-7 (all)"] = time.perf_counter() - start
    return runs


def _module_of(test_name: str) -> str:
    """The module of a JUnit test name (``package.module::test``): its last dotted part."""
    return test_name.split("::")[0].rsplit(".", 1)[-1]


def _carried_tests(patch: Path) -> list[str]:
    """The test files a patch adds or changes, as paths in the overlay (wheel layout, ``-p3`` stripped)."""
    paths = re.findall(r"^\+\+\+ b/(?:[^/]+/){2}(\S+/test/\S*test_[^/\s]+\.py)$", patch.read_text(), re.MULTILINE)
    return sorted(set(paths))


def test_the_series_has_one_patch_per_pull_request(exported_series):
    patches = _patches(exported_series)
    assert len(patches) == SERIES_LENGTH
    for patch in patches:
        text = patch.read_text()
        # a description first (its title, then what the pull request does), then the diffs
        assert text.split("\n", 1)[0] and not text.startswith("--- "), patch.name
        assert "\n+++ b/" in text, patch.name


@pytest.mark.parametrize("count", range(1, SERIES_LENGTH + 1))
def test_each_prefix_applies_and_the_tests_pass(prefix_runs, count):
    """After patches 1..count: Isaac Lab's recorder and Mimic tests, and the tests patch ``count`` carries."""
    run = prefix_runs[count]
    assert run.apply_error is None, run.apply_error
    failed = {name: outcome for name, outcome in run.outcomes.items() if outcome not in ("passed", "skipped")}
    assert run.returncode == 0 and not failed, f"after patch {count}: {failed}\n{run.output[-8000:]}"
    for relative_path, number in UPSTREAM_TESTS.items():
        if number:
            module = Path(relative_path).stem
            passed = [
                name for name, outcome in run.outcomes.items() if _module_of(name) == module and outcome == "passed"
            ]
            assert len(passed) == number, f"{relative_path}: {len(passed)} tests passed, expected {number}"
    carried_ran = [name for name in run.outcomes if _module_of(name) in {Path(path).stem for path in run.carried}]
    assert len(carried_ran) >= len(run.carried)


def test_the_first_patch_alone_records_a_newton_env_identically_in_sync_and_async(
    upstream_env, exported_series, tmp_path
):
    overlay = _overlay_after(upstream_env, exported_series, 1, tmp_path / "overlay")

    def record(mode: str) -> dict:
        start = time.perf_counter()
        result = run_upstream(
            upstream_env,
            [str(SCRIPTS_DIR / "newton_env_recording.py"), "--mode", mode, "--output_dir", str(tmp_path / mode)],
            overlay=overlay,
            cwd=tmp_path,
        )
        TIMINGS[f"Newton env recording after patch 1 ({mode}, beside the other mode)"] = time.perf_counter() - start
        return json.loads(result.stdout.strip().splitlines()[-1])

    # the two modes record side by side, each into its own folder
    with ThreadPoolExecutor(max_workers=2) as pool:
        summaries = dict(zip(("sync", "async"), pool.map(record, ("sync", "async"))))
    assert summaries["sync"]["exported"] == summaries["async"]["exported"]
    assert summaries["sync"]["exported"]["succeeded"] >= 5 and summaries["sync"]["exported"]["failed"] >= 5
    for filename in ("dataset.hdf5", "dataset_failed.hdf5"):
        differences = compare_files(str(tmp_path / "sync" / filename), str(tmp_path / "async" / filename), True)
        assert not differences, f"{filename}: " + "\n".join(differences[:20])
