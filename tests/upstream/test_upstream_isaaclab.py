# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The patch applies to the real Isaac Lab 3.0.0, and Isaac Lab's own simulator-free tests pass on the patched code.

The patch is exported with ``./isaaclab.sh --export-patch`` and applied with ``patch -p3`` to copies of the installed
packages; Isaac Lab's tests are taken from the installed wheel at run time, unchanged.
"""

from __future__ import annotations

import re
import shutil
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from upstream_harness import TIMINGS, apply_patch, load_patch_tool, run_upstream

pytestmark = [pytest.mark.upstream, pytest.mark.timeout(1800)]

UPSTREAM_TESTS = {
    "isaaclab/test/conftest.py": None,
    "isaaclab/test/managers/test_recorder_manager.py": 2,
    "isaaclab/test/utils/test_episode_data.py": 5,
    "isaaclab/test/utils/test_hdf5_dataset_file_handler.py": 4,
    "isaaclab_mimic/test/test_generation_failure_cap.py": 7,
    "isaaclab_mimic/test/test_selection_strategy.py": 2,
}
"""Isaac Lab 3.0.0's test files (under ``site-packages/isaaclab/source/``) and how many tests each must pass."""


def test_patch_applies_cleanly_in_site_packages(patched_upstream):
    """``patch -p3 --dry-run`` in the installed site-packages: every hunk applies (nothing is changed)."""
    result = apply_patch(patched_upstream.patch_file, patched_upstream.env.site_packages, dry_run=True)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "FAILED" not in result.stdout and "Reversed" not in result.stdout, result.stdout


def test_patched_files_are_the_project_files(patched_upstream):
    """After ``patch -p3``, every file of the patch that the wheel has a place for is byte for byte the project's."""
    tool = load_patch_tool()
    import patch_series

    compared = 0
    for path in patch_series.touched_paths(patch_series.read_series()):
        if not patch_series.in_wheel(path):
            assert f"+++ b/{path}\n" not in patched_upstream.patch_file.read_text()  # no diff of it
            continue
        installed = tool.wheel_path(path) or re.sub(r"^source/([^/]+)/test/", r"isaaclab/source/\1/test/", path)
        patched = (patched_upstream.overlay / installed).read_bytes()
        assert patched == (tool.PROJECT_ROOT / patch_series.repo_path(path)).read_bytes(), f"{installed} differs"
        compared += 1
    assert compared > 40


def test_isaaclab_recorder_and_mimic_tests_pass(patched_upstream, tmp_path):
    """Isaac Lab 3.0.0's recorder, episode-data, HDF5-handler and Mimic generation tests, unchanged, all pass."""
    installed_source = patched_upstream.env.site_packages / "isaaclab" / "source"
    test_files = []
    for relative_path, count in UPSTREAM_TESTS.items():
        target = tmp_path / "source" / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(installed_source / relative_path, target)
        if count is not None:
            test_files.append(str(target.relative_to(tmp_path)))
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    unit: Isaac Lab's unit tests\n")
    report = tmp_path / "report.xml"

    start = time.perf_counter()
    result = run_upstream(
        patched_upstream.env,
        ["-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}", "-q", *test_files],
        overlay=patched_upstream.overlay,
        cwd=tmp_path,
        check=False,
    )
    TIMINGS["Isaac Lab's own tests"] = time.perf_counter() - start

    outcomes = junit_outcomes(report) if report.is_file() else {}
    failed = {name: outcome for name, outcome in outcomes.items() if outcome != "passed"}
    if result.returncode != 0 or failed:
        pytest.fail(
            f"Isaac Lab's tests fail on the patched code (exit {result.returncode}): {failed}\n{result.stdout[-8000:]}",
            pytrace=False,
        )
    for relative_path, count in UPSTREAM_TESTS.items():
        if count is not None:
            module = Path(relative_path).stem
            passed = [name for name in outcomes if name.split("::")[0].endswith(module)]
            assert len(passed) == count, f"{relative_path}: {len(passed)} tests passed, expected {count}"


def junit_outcomes(report: Path) -> dict[str, str]:
    """The outcome (passed, failed, error, skipped) of every test in a JUnit XML report, by ``classname::name``."""
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                break
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return outcomes
