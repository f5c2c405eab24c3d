# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Writes LeRobot episodes until it is killed, printing ``written <n>`` after each ``write_episode`` + ``flush``.

Usage: ``python _lerobot_crash_worker.py DATASET_DIR NUM_STEPS VIDEO_MB``. Episode ``n`` has ``NUM_STEPS + n`` steps;
files roll over at ``VIDEO_MB`` megabytes.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _lerobot_episodes import SIM_ARGS, make_episode  # noqa: E402

from isaaclab.utils.datasets.lerobot import LeRobotDatasetCfg, LeRobotDatasetFileHandler  # noqa: E402

root, num_steps, video_mb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
handler = LeRobotDatasetFileHandler(
    LeRobotDatasetCfg(task="stack", video_files_size_in_mb=video_mb, data_files_size_in_mb=video_mb / 20)
)
handler.create(root, env_name="Isaac-Crash-v0")
handler.add_env_args(SIM_ARGS)
index = 0
while True:
    handler.write_episode(make_episode(index, num_steps + index))
    handler.flush()
    index += 1
    print(f"written {index}", flush=True)
