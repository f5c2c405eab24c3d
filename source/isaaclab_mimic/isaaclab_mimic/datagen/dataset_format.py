# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""The dataset formats the Mimic scripts write: Isaac Lab's HDF5 file, or a LeRobot v3.0 dataset folder."""

from __future__ import annotations

import os

from isaaclab.managers import RecorderManagerBaseCfg

DATASET_FORMATS = ("hdf5", "lerobot")
"""The values of ``--dataset_format``."""


def dataset_output_path(output_file: str, dataset_format: str) -> str:
    """The absolute path of the dataset to write.

    For ``hdf5`` it is the file, ``.hdf5`` appended if missing. For ``lerobot`` it is the dataset folder: a trailing
    ``.hdf5`` is dropped (so the scripts' default output names a folder).

    Raises:
        ValueError: If the format is unknown.
    """
    check_dataset_format(dataset_format)
    if dataset_format == "hdf5":
        return os.path.abspath(output_file if output_file.endswith(".hdf5") else f"{output_file}.hdf5")
    path = output_file.rstrip("/") or output_file
    return os.path.abspath(path[: -len(".hdf5")] if path.endswith(".hdf5") else path)


def check_new_dataset(path: str, dataset_format: str) -> None:
    """Check that a dataset can be created at a path (nothing there is ever deleted).

    Raises:
        FileExistsError: If the HDF5 file exists, or the LeRobot folder exists and is not empty (or is a file).
    """
    if dataset_format == "hdf5" and os.path.exists(path):
        raise FileExistsError(f"The output file '{path}' already exists; remove it or choose another path.")
    if dataset_format == "lerobot" and (os.path.isfile(path) or (os.path.isdir(path) and os.listdir(path))):
        raise FileExistsError(
            f"The output dataset folder '{path}' already exists and is not empty; remove it or choose another path."
        )


def configure_dataset_format(
    recorder_cfg: RecorderManagerBaseCfg, dataset_format: str, task: str | None, video_codec: str | None = None
) -> None:
    """Make a recorder config write the given format (``hdf5`` leaves it as it is).

    Args:
        recorder_cfg: The recorder config.
        dataset_format: ``hdf5`` or ``lerobot``.
        task: The task description of a LeRobot dataset (None: the environment's name).
        video_codec: The video encoder of a LeRobot dataset (None: LeRobot's default, SVT-AV1).

    Raises:
        ValueError: If the format is unknown, or a video codec is given for HDF5.
        ImportError: If the LeRobot format's packages (Isaac Lab's ``lerobot`` extra) are missing.
    """
    check_dataset_format(dataset_format)
    if dataset_format == "hdf5":
        if video_codec is not None:
            raise ValueError(f"A video codec ('{video_codec}') applies to the lerobot dataset format only.")
        return
    from isaaclab.utils.datasets.lerobot import LeRobotDatasetCfg, LeRobotDatasetFileHandler, VideoCodecCfg

    video = VideoCodecCfg() if video_codec is None else VideoCodecCfg(codec=video_codec)
    recorder_cfg.dataset_file_handler_class_type = LeRobotDatasetFileHandler
    recorder_cfg.dataset_file_handler_cfg = LeRobotDatasetCfg(task=task, video=video)


def check_dataset_format(dataset_format: str) -> None:
    """Raises:
    ValueError: If the format is not one of :data:`DATASET_FORMATS`.
    """
    if dataset_format not in DATASET_FORMATS:
        raise ValueError(f"Unknown dataset format '{dataset_format}': choose one of {', '.join(DATASET_FORMATS)}.")
