# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Helpers of the upstream check: load the patch tool, apply a patch, run the upstream python, keep timings."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from upstream_env import UpstreamEnv

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SCRIPTS_DIR = HERE / "scripts"
"""Our scripts that run with the upstream python."""

OVERLAY_PACKAGES = ("isaaclab", "isaaclab_mimic")
"""The installed packages the patch touches; they are copied and patched, the rest is used as installed."""

TIMINGS: dict[str, float] = {}
"""Seconds taken by the steps of the upstream check in this session (printed in the terminal summary)."""


@dataclass(frozen=True)
class PatchedUpstream:
    """The upstream environment with a patched copy of the packages the patch touches."""

    env: UpstreamEnv
    """The environment (its site-packages stays unpatched)."""
    patch_file: Path
    """The exported patch (wheel mode)."""
    overlay: Path
    """A folder holding patched copies of :data:`OVERLAY_PACKAGES`; first on ``PYTHONPATH`` it shadows them."""


def load_patch_tool():
    """The ``tools/upstream_patch.py`` module (``tools/`` is not a package: it goes on ``sys.path``, where its
    ``patch_series`` module is found too)."""
    tools = str(REPO_ROOT / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    return importlib.import_module("upstream_patch")


def apply_patch(patch_file: Path, directory: Path, dry_run: bool = False) -> subprocess.CompletedProcess:
    """Apply a patch with ``patch -p3`` in a folder laid out like ``site-packages``.

    Args:
        patch_file: The patch.
        directory: The folder (``site-packages`` or a copy of some of its packages).
        dry_run: Only check that every hunk applies; change nothing.

    Returns:
        The finished ``patch`` process (non-zero exit code if a hunk failed).
    """
    if shutil.which("patch") is None:
        pytest.fail("the upstream check needs the 'patch' program (GNU patch)")
    command = ["patch", "-p3", "--batch", "--forward", "--no-backup-if-mismatch", "-d", str(directory)]
    command += ["-i", str(patch_file)] + (["--dry-run"] if dry_run else ["--reject-file=-"])
    return subprocess.run(command, capture_output=True, text=True)


def run_upstream(
    env: UpstreamEnv,
    args: list[str],
    overlay: Path | None,
    cwd: Path,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run the upstream python in a subprocess.

    Args:
        env: The upstream environment.
        args: Arguments to its python.
        overlay: The patched overlay to put first on ``PYTHONPATH``, or None for the pristine Isaac Lab 3.0.0.
        cwd: The working folder.
        timeout: Seconds before the run is killed.
        check: Fail the test (showing the output) if the exit code is not 0.

    Returns:
        The finished process (stdout and stderr as text).
    """
    run_env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    if overlay is not None:
        run_env["PYTHONPATH"] = str(overlay)
    result = subprocess.run(
        [str(env.python), *args], capture_output=True, text=True, cwd=cwd, env=run_env, timeout=timeout
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"upstream python {' '.join(args)} exited {result.returncode}:\n"
            f"--- stdout (end) ---\n{result.stdout[-6000:]}\n--- stderr (end) ---\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result
