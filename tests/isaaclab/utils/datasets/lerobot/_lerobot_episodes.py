# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Episodes with known contents for the LeRobot handler tests (the crash worker subprocess imports them too)."""

from __future__ import annotations

import numpy as np
import torch

from isaaclab.utils.datasets import EpisodeData

IMAGE_SIZE = 64
CAMERAS = ("table_cam", "wrist_cam")
SIM_ARGS = {"sim_args": {"dt": 0.025, "decimation": 2, "render_interval": 2, "num_envs": 1}}
"""Environment arguments as the recorder adds them: 20 frames per second."""


def episode_arrays(index: int, num_steps: int, image_size: int = IMAGE_SIZE) -> dict[str, np.ndarray]:
    """The contents of episode ``index`` (flat keys): actions, two state terms and two smooth camera images."""
    rng = np.random.default_rng(index)
    steps = np.arange(num_steps)
    ys, xs = np.mgrid[0:image_size, 0:image_size]
    arrays = {
        "actions": rng.normal(size=(num_steps, 7)).astype(np.float32),
        "obs/eef_pos": rng.normal(size=(num_steps, 3)).astype(np.float32),
        "obs/gripper_pos": rng.normal(size=(num_steps, 2)).astype(np.float32),
    }
    for cam_index, cam in enumerate(CAMERAS):
        frames = np.empty((num_steps, image_size, image_size, 3), dtype=np.uint8)
        for step in steps:
            shift = (step * 3 + index * 11 + cam_index * 29) % image_size
            frames[step, ..., 0] = (xs + shift) * 255 // (2 * image_size)
            frames[step, ..., 1] = (ys * 2 + index * 20) % 256
            frames[step, ..., 2] = 60 + cam_index * 80
            square = slice(shift // 2, shift // 2 + 12)
            frames[step, square, square] = (230, 40, 40)
        arrays[f"obs/{cam}"] = frames
    return arrays


def make_episode(index: int, num_steps: int, image_size: int = IMAGE_SIZE) -> EpisodeData:
    """Episode ``index`` as the recorder builds it (one tensor per step and key)."""
    episode = EpisodeData()
    arrays = episode_arrays(index, num_steps, image_size)
    for step in range(num_steps):
        for key, values in arrays.items():
            episode.add(key, torch.from_numpy(values[step]))
    episode.success = True
    return episode
