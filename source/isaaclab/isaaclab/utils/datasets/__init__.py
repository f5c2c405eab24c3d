"""Episode data, dataset file handlers and the episode writer."""

from .dataset_diff import diff_hdf5_files
from .dataset_file_handler_base import DatasetFileHandlerBase
from .episode_data import EpisodeData
from .episode_writer import EpisodeWriteError, EpisodeWriteJob, EpisodeWriter, WriterStatistics
from .hdf5_dataset_file_handler import HDF5DatasetFileHandler

__all__ = [
    "DatasetFileHandlerBase",
    "EpisodeData",
    "EpisodeWriteError",
    "EpisodeWriteJob",
    "EpisodeWriter",
    "HDF5DatasetFileHandler",
    "WriterStatistics",
    "diff_hdf5_files",
]
