# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Settings of the LeRobot dataset file handler."""

from __future__ import annotations

from isaaclab.utils import configclass


@configclass
class VideoCodecCfg:
    """How camera frames are encoded into the dataset's mp4 files.

    The defaults are LeRobot's own (AV1 with SVT-AV1, ``yuv420p``, a key frame every 2 frames, CRF 30, preset 12),
    so that LeRobot's loaders see the videos they expect.
    """

    codec: str = "libsvtav1"
    """The FFmpeg encoder: ``libsvtav1`` (LeRobot's default), ``libx264`` (faster on the CPU, larger files) or an NVENC
    encoder (``h264_nvenc``, ``hevc_nvenc``, ``av1_nvenc``) on a GPU that has one."""

    fallback_codec: str | None = "libsvtav1"
    """The encoder used instead when :attr:`codec` cannot be opened (for example NVENC without a GPU that has it). A
    warning names both. None raises the error instead."""

    pix_fmt: str = "yuv420p"
    """The pixel format of the encoded frames."""

    gop_size: int = 2
    """Frames from one key frame to the next (LeRobot's default keeps random access cheap for training loaders)."""

    crf: int | None = None
    """The constant rate factor (the constant quality for NVENC). Defaults to None: 30 for SVT-AV1, 23 for x264 and
    the NVENC encoders."""

    preset: str | None = None
    """The encoder preset. Defaults to None: ``12`` for SVT-AV1, ``veryfast`` for x264, ``p4`` for NVENC."""

    options: dict[str, str] = {}
    """More encoder options, passed to FFmpeg as they are (for example ``{"svtav1-params": "lp=2"}``)."""


@configclass
class LeRobotDatasetCfg:
    """Settings of :class:`~isaaclab.utils.datasets.lerobot.LeRobotDatasetFileHandler`.

    Keys are paths into an episode's data, nested with ``/`` (for example ``obs/table_cam``). Left at None, the keys
    follow Isaac Lab's recordings: every ``obs/<name>`` of dtype uint8 and shape (H, W, 3) per step is a camera;
    every other tensor directly under ``obs`` goes, flattened and in the order of their names, into
    ``observation.state`` (the same order whether the episode comes from the recorder or from an HDF5 file);
    ``actions`` is the action.
    """

    task: str | None = None
    """The task description stored for every episode. Defaults to None, in which case the environment's name is
    used."""

    fps: float | None = None
    """Frames per second. Defaults to None, in which case it is ``1 / (dt * decimation)`` from the environment
    arguments the recorder adds (``sim_args``). It must be a whole number."""

    robot_type: str | None = None
    """The robot type stored in ``meta/info.json``."""

    camera_keys: list[str] | None = None
    """Episode keys of the cameras (uint8, (H, W, 3) per step), stored as ``observation.images.<last name>`` videos.
    Defaults to None: every uint8 (H, W, 3) tensor directly under ``obs``."""

    state_keys: list[str] | None = None
    """Episode keys concatenated, flattened, in this order, into ``observation.state``. Defaults to None: every other
    tensor directly under ``obs``, by name. An empty list stores no state."""

    action_key: str = "actions"
    """The episode key stored as ``action``."""

    video: VideoCodecCfg = VideoCodecCfg()
    """How camera frames are encoded."""

    chunks_size: int = 1000
    """Files per ``chunk-XXX`` folder."""

    data_files_size_in_mb: float = 100.0
    """A data file is closed, and the next one started, once its rows take this many megabytes (uncompressed: the
    parquet file is smaller)."""

    video_files_size_in_mb: float = 200.0
    """A video file is closed, and the next one started, once it holds this many megabytes."""
