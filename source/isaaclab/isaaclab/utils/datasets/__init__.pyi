# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

__all__ = [
    "DatasetFileHandlerBase",
    "EpisodeData",
    "EpisodeWriteError",
    "EpisodeWriteJob",
    "EpisodeWriter",
    "HDF5DatasetFileHandler",
    "PagedEpisode",
    "PagedEpisodeStore",
    "PoolStatistics",
    "WriterStatistics",
]

from .dataset_file_handler_base import DatasetFileHandlerBase
from .episode_data import EpisodeData
from .episode_writer import EpisodeWriteError, EpisodeWriteJob, EpisodeWriter, WriterStatistics
from .hdf5_dataset_file_handler import HDF5DatasetFileHandler
from .paged_episode_store import PagedEpisode, PagedEpisodeStore, PoolStatistics
