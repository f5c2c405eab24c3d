# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The real lerobot 0.6.1 loads the LeRobot datasets written by the recorder and by the converter, offline, and
they hold the demos of the HDF5 written by the same seeded job."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

pytestmark = [pytest.mark.lerobot, pytest.mark.slow, pytest.mark.timeout(900)]

LOADER = Path(__file__).resolve().parent / "scripts" / "load_lerobot_dataset.py"
MAX_MEAN_ABS_ERROR = 6.0
"""Every decoded frame within this mean absolute error (uint8 levels, so 6/255) of the recorded one."""


def load_with_lerobot(lerobot_env, root: Path, output: Path) -> tuple[dict, dict[str, np.ndarray]]:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(output.parent / "hf_home")}
    result = subprocess.run(
        [str(lerobot_env.python), str(LOADER), str(root), str(output)], capture_output=True, text=True, env=environment
    )
    assert result.returncode == 0, f"lerobot failed to load {root}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    with np.load(output) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def hdf5_demos(path: Path) -> list[dict[str, np.ndarray]]:
    """The demos of an HDF5 dataset in demo order: actions and camera frames."""
    with h5py.File(path, "r") as file:
        names = sorted(file["data"], key=lambda name: int(name.split("_")[1]))
        return [
            {
                "actions": file["data"][name]["actions"][()],
                "table_cam": file["data"][name]["obs"]["table_cam"][()],
                "wrist_cam": file["data"][name]["obs"]["wrist_cam"][()],
            }
            for name in names
        ]


@pytest.mark.parametrize("which", ["recorded", "converted", "merged"])
def test_lerobot_loads_the_demos_of_the_hdf5(lerobot_env, check_datasets, tmp_path, which):
    meta, arrays = load_with_lerobot(lerobot_env, getattr(check_datasets, which), tmp_path / "loaded.npz")
    demos = hdf5_demos(check_datasets.hdf5) * (2 if which == "merged" else 1)
    assert meta["num_episodes"] == len(demos) == (6 if which == "merged" else 3)
    assert meta["lengths"] == [len(demo["actions"]) for demo in demos]
    assert meta["fps"] == 20
    assert meta["cameras"] == ["observation.images.table_cam", "observation.images.wrist_cam"]
    assert meta["tasks"] == ["Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0"]
    assert {"action", "observation.state", "observation.images.table_cam"} <= set(meta["stats_features"])
    assert meta["batch_shapes"]["action"][1:] == [2, 7]
    assert meta["batch_shapes"]["observation.images.table_cam"][1:3] == [2, 3]
    for index, demo in enumerate(demos):
        np.testing.assert_array_equal(arrays[f"actions_{index}"], demo["actions"])
        for camera in ("table_cam", "wrist_cam"):
            decoded = arrays[f"observation.images.{camera}_{index}"].astype(np.int16)
            assert decoded.shape == demo[camera].shape
            error = np.abs(decoded - demo[camera]).mean(axis=(1, 2, 3))
            assert error.max() <= MAX_MEAN_ABS_ERROR, f"demo {index} {camera}: frame error up to {error.max():.2f}"
