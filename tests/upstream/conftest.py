# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Fixtures of the upstream check: the real Isaac Lab 3.0.0 environment, the exported patch, a patched overlay.

They are session-scoped, so they are made once per test session; the environment itself is cached across sessions
(see ``upstream_env.py``). This folder and ``scripts/`` go on ``sys.path`` so the tests can import the helpers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

# the helper modules here, and the comparison helper that our upstream scripts use too
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent / "scripts")]

from upstream_env import UpstreamEnv, ensure_upstream_env  # noqa: E402
from upstream_harness import (  # noqa: E402
    OVERLAY_PACKAGES,
    REPO_ROOT,
    TIMINGS,
    PatchedUpstream,
    apply_patch,
    load_patch_tool,
)


@pytest.fixture(scope="session")
def upstream_env() -> UpstreamEnv:
    """The cached Isaac Lab 3.0.0 environment (built on first use)."""
    start = time.perf_counter()
    tool = load_patch_tool()
    wheel = tool.ensure_wheel()
    env = ensure_upstream_env(wheel, tool.WHEEL_SHA256, log=lambda line: print(line, file=sys.stderr))
    step = "environment (built)" if env.built_seconds is not None else "environment (cached)"
    TIMINGS[step] = time.perf_counter() - start
    return env


@pytest.fixture(scope="session")
def exported_patch(tmp_path_factory) -> Path:
    """The patch as ``./isaaclab.sh --export-patch`` writes it (against the 3.0.0 wheel)."""
    patch_file = tmp_path_factory.mktemp("patch") / "recorder.patch"
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "isaaclab.sh"), "--export-patch", str(patch_file)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, f"--export-patch failed:\n{result.stdout}\n{result.stderr}"
    return patch_file


@pytest.fixture(scope="session")
def exported_series(tmp_path_factory) -> Path:
    """The series of pull requests as ``./isaaclab.sh --export-series`` writes it (against the 3.0.0 wheel)."""
    directory = tmp_path_factory.mktemp("series")
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "isaaclab.sh"), "--export-series", str(directory)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, f"--export-series failed:\n{result.stdout}\n{result.stderr}"
    return directory


@pytest.fixture(scope="session")
def patched_upstream(upstream_env, exported_patch, tmp_path_factory) -> PatchedUpstream:
    """Copies of the installed ``isaaclab`` and ``isaaclab_mimic``, patched with ``patch -p3``."""
    start = time.perf_counter()
    overlay = tmp_path_factory.mktemp("overlay")
    for package in OVERLAY_PACKAGES:
        # copy2 keeps modification times, so the installed bytecode stays valid for the unpatched modules
        shutil.copytree(upstream_env.site_packages / package, overlay / package)
    result = apply_patch(exported_patch, overlay)
    assert result.returncode == 0, f"patch -p3 failed in the overlay:\n{result.stdout}\n{result.stderr}"
    TIMINGS["patched overlay"] = time.perf_counter() - start
    return PatchedUpstream(env=upstream_env, patch_file=exported_patch, overlay=overlay)


def pytest_terminal_summary(terminalreporter) -> None:
    """Print how long the steps of the upstream check took."""
    if TIMINGS:
        terminalreporter.section("upstream check timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step}: {seconds:.1f} s")
