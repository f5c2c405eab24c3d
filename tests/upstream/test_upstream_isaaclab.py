# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The patch applies to the real Isaac Lab 3.0.0, and Isaac Lab's own simulator-free tests pass on the patched code.

The patch is exported with ``./isaaclab.sh --export-patch`` and applied with ``patch -p3`` to copies of the installed
packages; Isaac Lab's tests are taken from the installed wheel at run time, unchanged.
"""

from __future__ import annotations

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
    """After ``patch -p3``, each patched file is byte for byte the project's (scripts are not in the wheel)."""
    tool = load_patch_tool()
    compared = 0
    for repo_path in tool.PATCH_FILES:
        installed_path = tool.wheel_path(repo_path)
        if installed_path is None:
            assert repo_path.startswith("scripts/")
            assert f"+++ b/{repo_path}\n" not in patched_upstream.patch_file.read_text()  # no diff of it
            continue
        patched = (patched_upstream.overlay / installed_path).read_bytes()
        assert patched == (tool.PROJECT_ROOT / repo_path).read_bytes(), f"{installed_path} differs after patching"
        compared += 1
    assert compared == sum(tool.wheel_path(path) is not None for path in tool.PATCH_FILES)


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
