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
import re
import shutil
import time
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
    """Copies of the installed packages with the first ``count`` patches applied, one after the other."""
    for package in OVERLAY_PACKAGES:
        shutil.copytree(upstream_env.site_packages / package, directory / package)
    for patch in _patches(series)[:count]:
        result = apply_patch(patch, directory)
        assert result.returncode == 0, f"{patch.name} does not apply after the ones before it:\n{result.stdout}"
    (directory / "pytest.ini").write_text("[pytest]\nmarkers =\n    unit: Isaac Lab's unit tests\n")
    return directory


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
def test_each_prefix_applies_and_the_tests_pass(upstream_env, exported_series, tmp_path, count):
    """After patches 1..count: Isaac Lab's recorder and Mimic tests, and the tests patch ``count`` carries."""
    start = time.perf_counter()
    overlay = _overlay_after(upstream_env, exported_series, count, tmp_path / "overlay")
    own_tests = [str(Path("isaaclab") / "source" / path) for path, number in UPSTREAM_TESTS.items() if number]
    carried = _carried_tests(_patches(exported_series)[count - 1])
    report = tmp_path / "report.xml"
    result = run_upstream(
        upstream_env,
        ["-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib", f"--junitxml={report}", "-q"]
        + own_tests
        + carried,
        overlay=overlay,
        cwd=overlay,
        check=False,
    )
    TIMINGS[f"series prefix {count}"] = time.perf_counter() - start
    outcomes = junit_outcomes(report) if report.is_file() else {}
    failed = {name: outcome for name, outcome in outcomes.items() if outcome not in ("passed", "skipped")}
    assert result.returncode == 0 and not failed, f"after patch {count}: {failed}\n{result.stdout[-8000:]}"
    for relative_path, number in UPSTREAM_TESTS.items():
        if number:
            passed = [name for name, outcome in outcomes.items() if Path(relative_path).stem in name.split("::")[0]]
            assert len(passed) == number, f"{relative_path}: {len(passed)} tests ran, expected {number}"
    # the patch's own tests ran too (every pull request but the Ray one carries some)
    carried_ran = [name for name in outcomes if any(Path(path).stem in name for path in carried)]
    assert len(carried_ran) >= len(carried)


def test_the_first_patch_alone_records_a_newton_env_identically_in_sync_and_async(
    upstream_env, exported_series, tmp_path
):
    overlay = _overlay_after(upstream_env, exported_series, 1, tmp_path / "overlay")
    summaries = {}
    for mode in ("sync", "async"):
        start = time.perf_counter()
        result = run_upstream(
            upstream_env,
            [str(SCRIPTS_DIR / "newton_env_recording.py"), "--mode", mode, "--output_dir", str(tmp_path / mode)],
            overlay=overlay,
            cwd=tmp_path,
        )
        TIMINGS[f"Newton env recording after patch 1 ({mode})"] = time.perf_counter() - start
        summaries[mode] = json.loads(result.stdout.strip().splitlines()[-1])
    assert summaries["sync"]["exported"] == summaries["async"]["exported"]
    assert summaries["sync"]["exported"]["succeeded"] >= 5 and summaries["sync"]["exported"]["failed"] >= 5
    for filename in ("dataset.hdf5", "dataset_failed.hdf5"):
        differences = compare_files(str(tmp_path / "sync" / filename), str(tmp_path / "async" / filename), True)
        assert not differences, f"{filename}: " + "\n".join(differences[:20])
