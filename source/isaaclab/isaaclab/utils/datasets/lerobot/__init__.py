# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""LeRobot v3.0 datasets: a dataset file handler for the recorder, and the recovery of a dataset after a crash.

It needs ``pyarrow`` and ``av`` (PyAV), installed with Isaac Lab's ``lerobot`` extra.
"""

try:
    import av  # noqa: F401
    import pyarrow  # noqa: F401
except ImportError as error:
    raise ImportError(
        f"LeRobot datasets need pyarrow and PyAV ({error.name} is missing): install Isaac Lab's 'lerobot' extra, for"
        " example 'pip install -e source/isaaclab[lerobot]' (./isaaclab.sh -i installs it)."
    ) from error

from .journal import recover_dataset
from .lerobot_dataset_cfg import LeRobotDatasetCfg, VideoCodecCfg
from .lerobot_dataset_file_handler import LeRobotDatasetFileHandler, decode_frames
from .merge import merge_lerobot_datasets

__all__ = [
    "LeRobotDatasetCfg",
    "LeRobotDatasetFileHandler",
    "VideoCodecCfg",
    "decode_frames",
    "merge_lerobot_datasets",
    "recover_dataset",
]
