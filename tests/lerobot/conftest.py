# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Fixtures of the check against the real lerobot 0.6.1: its cached environment, and the datasets to load.

They are session-scoped; the environment itself is cached across sessions (see ``lerobot_env.py``). This folder goes
on ``sys.path`` so the tests can import the helper.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lerobot_env import LeRobotEnv, ensure_lerobot_env  # noqa: E402

from isaaclab.utils.datasets.lerobot import merge_lerobot_datasets  # noqa: E402

from isaaclab_mimic.tools.source_dataset import ensure_source_dataset  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
CAMERA_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0"
GENERATE = REPO_ROOT / "scripts" / "imitation_learning" / "isaaclab_mimic" / "generate_dataset.py"
CONVERT = REPO_ROOT / "scripts" / "tools" / "convert_hdf5_to_lerobot.py"


@dataclass(frozen=True)
class CheckDatasets:
    """The datasets of one seeded Mimic job on the camera task."""

    hdf5: Path
    """Written by the HDF5 recorder (synchronous export)."""
    recorded: Path
    """Written by the LeRobot recorder (``--async_write --dataset_format lerobot``)."""
    converted: Path
    """The HDF5 converted with ``convert_hdf5_to_lerobot.py``."""
    merged: Path
    """``recorded`` and ``converted`` merged into one dataset (``merge_lerobot_datasets``): the demos twice."""


@pytest.fixture(scope="session")
def lerobot_env() -> LeRobotEnv:
    """The cached lerobot 0.6.1 environment (built on first use)."""
    return ensure_lerobot_env(log=lambda line: print(line, file=sys.stderr))


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="session")
def check_datasets(tmp_path_factory) -> CheckDatasets:
    """One seeded generation job on the camera task, written as HDF5 and as LeRobot, and the HDF5 converted."""
    folder = tmp_path_factory.mktemp("lerobot_check")
    source = ensure_source_dataset(
        CAMERA_TASK, enable_cameras=True, num_demos=2, cache_dir=str(folder / "source"), log=lambda line: None
    )
    job = [sys.executable, str(GENERATE), "--task", CAMERA_TASK, "--input_file", source, "--num_envs", "2"]
    job += ["--generation_num_trials", "3", "--seed", "7", "--headless"]
    _run(job + ["--output_file", str(folder / "job.hdf5")])
    _run(job + ["--output_file", str(folder / "recorded"), "--dataset_format", "lerobot", "--async_write"])
    _run([sys.executable, str(CONVERT), "--hdf5", str(folder / "job.hdf5"), "--output", str(folder / "converted")])
    merge_lerobot_datasets([str(folder / "recorded"), str(folder / "converted")], str(folder / "merged"))
    return CheckDatasets(
        hdf5=folder / "job.hdf5", recorded=folder / "recorded", converted=folder / "converted", merged=folder / "merged"
    )
