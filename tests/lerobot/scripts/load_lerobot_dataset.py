# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Load a LeRobot dataset folder with the real lerobot (run in the cached lerobot environment) and save what it gives.

Usage: ``python load_lerobot_dataset.py DATASET_DIR OUTPUT.npz``. Every frame of every episode is read through
``LeRobotDataset.__getitem__`` (video decoded with PyAV), and a ``DataLoader`` with two workers reads a batch with
``delta_timestamps``. The npz holds, per episode ``i``: ``actions_i`` (T, A) and, per camera, ``<camera>_i``
(T, H, W, 3) uint8; and ``meta`` (JSON: counts, fps, features, task strings, the batch's shapes).
"""

import json
import sys

import numpy as np
import torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset

root, output = sys.argv[1], sys.argv[2]
dataset = LeRobotDataset("isaaclab/check", root=root, video_backend="pyav")
cameras = dataset.meta.video_keys
arrays: dict[str, np.ndarray] = {}
lengths, tasks = [], set()
for episode in range(dataset.num_episodes):
    start = int(dataset.meta.episodes[episode]["dataset_from_index"])
    end = int(dataset.meta.episodes[episode]["dataset_to_index"])
    items = [dataset[index] for index in range(start, end)]
    assert all(int(item["episode_index"]) == episode for item in items)
    assert [int(item["frame_index"]) for item in items] == list(range(end - start))
    lengths.append(end - start)
    tasks.update(item["task"] for item in items)
    arrays[f"actions_{episode}"] = torch.stack([item["action"] for item in items]).numpy()
    for camera in cameras:
        frames = torch.stack([item[camera] for item in items])  # (T, 3, H, W) float in [0, 1]
        arrays[f"{camera}_{episode}"] = (frames.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy()

fps = dataset.fps
windowed = LeRobotDataset(
    "isaaclab/check",
    root=root,
    video_backend="pyav",
    delta_timestamps={"action": [0.0, 1 / fps], cameras[0]: [-1 / fps, 0.0]},
)
loader = torch.utils.data.DataLoader(windowed, batch_size=4, num_workers=2, shuffle=True)
batch = next(iter(loader))
meta = {
    "num_episodes": dataset.num_episodes,
    "num_frames": dataset.num_frames,
    "lengths": lengths,
    "fps": fps,
    "cameras": cameras,
    "tasks": sorted(tasks),
    "stats_features": sorted(dataset.meta.stats),
    "batch_shapes": {key: list(value.shape) for key, value in batch.items() if hasattr(value, "shape")},
}
np.savez(output, meta=json.dumps(meta), **arrays)
print(json.dumps(meta))
