# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable

import numpy as np
import torch

from ..math import convert_quat
from .chunk_compression import ChunkCompressor, check_compression, default_compression_threads
from .dataset_file_handler_base import DatasetFileHandlerBase
from .episode_data import EpisodeData

# Current dataset format version
# Version 1: XYZW quaternion format (current)
# Version 0 (or missing): Legacy WXYZ quaternion format
DATASET_FORMAT_VERSION = 1

GZIP_LEVEL = 2
"""The default gzip level of every dataset when compression is on."""


def convert_pose_quat_wxyz_to_xyzw(pose: np.ndarray) -> np.ndarray:
    """Convert pose quaternion from WXYZ format to XYZW format.

    Args:
        pose: Pose array with shape (..., 7): a position, then a quaternion in WXYZ format.

    Returns:
        Pose array with shape (..., 7) where the quaternion is in XYZW format.
    """
    return np.concatenate([pose[..., :3], convert_quat(pose[..., 3:7], to="xyzw")], axis=-1)


class HDF5DatasetFileHandler(DatasetFileHandlerBase):
    """HDF5 dataset file handler for storing and loading episode data.

    The file stays open for the handler's life, and one lock guards every HDF5 call on it, so a background writer
    thread and the caller can use the handler at the same time. Demo names are tracked in memory as well, so that
    :meth:`reserve_episode_name` never waits for a write in progress. A demo is built in an anonymous group and
    linked under ``/data`` only when complete: a reader, or a file left by a killed process, never sees a half-written
    demo.
    """

    def __init__(self):
        """Initializes the HDF5 dataset file handler."""
        self._hdf5_file_stream = None
        self._hdf5_data_group = None
        self._demo_count = 0
        self._env_args = {}
        # every HDF5 call on the file holds this lock
        self._lock = threading.RLock()
        # names of the demos in the file, and names reserved for demos not written yet (guarded by _names_lock)
        self._names_lock = threading.Lock()
        self._published_names: set[str] = set()
        self._reserved_names: set[str] = set()
        self._reserved_running_names = 0
        # how datasets are compressed when dataset_compression is on (see configure_compression)
        self._compression_codec = "gzip"
        # device and inode of the open file, to notice that it was deleted or replaced on disk
        self._file_identity = None
        self._compressor = ChunkCompressor(GZIP_LEVEL, default_compression_threads(asynchronous=False))

    def open(self, file_path: str, mode: str = "r"):
        """Open an existing dataset file.

        Raises:
            RuntimeError: If the handler already has a file open.
            FileNotFoundError: If there is no file at the path.
            ValueError: If the file has no ``/data`` group.
        """
        import h5py

        with self._lock:
            if self._hdf5_file_stream is not None:
                raise RuntimeError("HDF5 dataset file stream is already in use")
            if not os.path.isfile(file_path):
                raise FileNotFoundError(f"Dataset file not found: '{file_path}'.")
            stream = h5py.File(file_path, mode)
            if "data" not in stream:
                stream.close()
                raise ValueError(f"'{file_path}' is not a dataset file: it has no '/data' group.")
            self._hdf5_file_stream = stream
            self._hdf5_data_group = stream["data"]
            self._file_identity = _file_identity(file_path)
            self._reset_names(set(self._hdf5_data_group))

    def create(self, file_path: str, env_name: str | None = None):
        """Create a new dataset file (``.hdf5`` is appended if missing; parent directories are created).

        Raises:
            RuntimeError: If the handler already has a file open.
            IsADirectoryError: If the path names a directory.
        """
        import h5py

        with self._lock:
            if self._hdf5_file_stream is not None:
                raise RuntimeError("HDF5 dataset file stream is already in use")
            if not file_path.endswith(".hdf5"):
                file_path += ".hdf5"
            if os.path.isdir(file_path):
                raise IsADirectoryError(f"Cannot create the dataset file '{file_path}': it is a directory.")
            dir_path = os.path.dirname(file_path)
            if dir_path:
                os.makedirs(dir_path, exist_ok=True)
            self._hdf5_file_stream = h5py.File(file_path, "w")
            self._file_identity = _file_identity(file_path)

            # Set the dataset format version
            self._hdf5_file_stream.attrs["format_version"] = DATASET_FORMAT_VERSION

            # set up a data group in the file
            self._hdf5_data_group = self._hdf5_file_stream.create_group("data")
            self._hdf5_data_group.attrs["total"] = 0
            self._reset_names(set())

            # set environment arguments
            # the environment type (we use gym environment type) is set to be compatible with robomimic
            # Ref: https://github.com/ARISE-Initiative/robomimic/blob/master/robomimic/envs/env_base.py#L15
            self.add_env_args({"env_name": env_name or "", "type": 2})
            # a file killed before its first demo still opens
            self._hdf5_file_stream.flush()

    def __del__(self):
        """Destructor for the file handler."""
        self.close()

    """
    Properties
    """

    def add_env_args(self, env_args: dict):
        """Add environment arguments to the dataset."""
        with self._lock:
            self._raise_if_not_initialized()
            stored_env_args = self._hdf5_data_group.attrs.get("env_args")
            self._env_args = json.loads(stored_env_args) if stored_env_args is not None else {}
            self._env_args.update(env_args)
            self._hdf5_data_group.attrs["env_args"] = json.dumps(self._env_args)

    def set_env_name(self, env_name: str):
        """Set the environment name."""
        self.add_env_args({"env_name": env_name})

    def get_env_name(self) -> str | None:
        """Get the environment name."""
        with self._lock:
            self._raise_if_not_initialized()
            return json.loads(self._hdf5_data_group.attrs["env_args"]).get("env_name")

    def get_episode_names(self) -> Iterable[str]:
        """Get the names of the episodes in the file."""
        with self._lock:
            self._raise_if_not_initialized()
            return list(self._hdf5_data_group.keys())

    def get_num_episodes(self) -> int:
        """Get number of episodes in the file."""
        with self._names_lock:
            return len(self._published_names)

    @property
    def demo_count(self) -> int:
        """The number of demos collected so far."""
        return self._demo_count

    @property
    def file_path(self) -> str | None:
        """The path of the open file, or None."""
        with self._lock:
            return None if self._hdf5_file_stream is None else self._hdf5_file_stream.filename

    @property
    def compression_codec(self) -> str:
        """The codec of the datasets written with ``dataset_compression`` on: gzip, lzf or none."""
        return self._compression_codec

    """
    Operations.
    """

    def configure_compression(self, codec: str = "gzip", level: int = GZIP_LEVEL, threads: int | None = None):
        """Choose how datasets are compressed when :meth:`write_episode` is called with ``dataset_compression``.

        gzip chunks are deflated on a pool of ``threads`` threads and written with HDF5's direct chunk write; the
        file is the same as HDF5's own gzip filter writes. lzf is compressed by HDF5 itself; none writes the data
        as is.

        Args:
            codec: gzip, lzf or none.
            level: The gzip level, 0-9 (default 2, as Isaac Lab writes).
            threads: The number of gzip compression threads. Defaults to None, in which case every core is used.

        Raises:
            ValueError: If the codec is unknown, the level is out of range, or the thread count is not positive.
        """
        threads = threads if threads is not None else default_compression_threads(asynchronous=False)
        check_compression(codec, level, threads)
        with self._lock:
            self._compressor.shutdown()
            self._compression_codec = codec
            self._compressor = ChunkCompressor(level, threads)

    def get_format_version(self) -> int:
        """Get the dataset format version.

        Returns:
            The format version number. Returns 0 for legacy datasets without version info.
        """
        with self._lock:
            self._raise_if_not_initialized()
            return int(self._hdf5_file_stream.attrs.get("format_version", 0))

    def is_legacy_quaternion_format(self) -> bool:
        """Check if the dataset uses the legacy WXYZ quaternion format (format version 0)."""
        return self.get_format_version() < DATASET_FORMAT_VERSION

    def load_episode(
        self, episode_name: str, device: str, convert_legacy_quat: bool | None = None
    ) -> EpisodeData | None:
        """Load episode data from the file.

        Args:
            episode_name: Name of the episode to load.
            device: Device to load tensors to.
            convert_legacy_quat: If True, convert quaternions from legacy WXYZ to XYZW format.
                If None (default), auto-detect based on dataset version.

        Returns:
            The loaded episode data, or None if the episode doesn't exist.
        """
        with self._lock:
            self._raise_if_not_initialized()
            if episode_name not in self._hdf5_data_group:
                return None
            if convert_legacy_quat is None:
                convert_legacy_quat = self.is_legacy_quaternion_format()
            h5_episode_group = self._hdf5_data_group[episode_name]
            episode = EpisodeData()
            episode.data = _load_group(h5_episode_group, device, convert_legacy_quat)
            if "seed" in h5_episode_group.attrs:
                episode.seed = h5_episode_group.attrs["seed"]
            if "success" in h5_episode_group.attrs:
                episode.success = h5_episode_group.attrs["success"]
            episode.env_id = self.get_env_name()
            return episode

    def reserve_episode_name(self, demo_id: int | None = None) -> str:
        """Reserve the name of an episode that :meth:`write_episode` will write later.

        Names of the running count are given out in order; if a write fails, the later ones move down by one, so
        that the demos in the file are numbered without gaps. A custom ``demo_id`` does not advance the count.

        Args:
            demo_id: A custom demo index, or None for the next name of the running count.

        Returns:
            The name the episode is expected to get.

        Raises:
            RuntimeError: If no file is open.
            ValueError: If a demo of that name exists or is reserved.
        """
        self._raise_if_not_initialized()
        with self._names_lock:
            if demo_id is None:
                name = f"demo_{self._demo_count + self._reserved_running_names}"
            else:
                name = f"demo_{demo_id}"
            if name in self._published_names or name in self._reserved_names or self._is_reserved_running(name):
                raise ValueError(f"Episode group '{name}' already exists in the dataset '{self.file_path}'")
            if demo_id is None:
                self._reserved_running_names += 1
            else:
                self._reserved_names.add(name)
            return name

    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True):
        """Add an episode to the dataset, and publish it under ``/data`` once complete.

        The episode takes a name reserved for it with :meth:`reserve_episode_name`, if any. The caller decides when
        to :meth:`flush`.

        Args:
            episode: The episode data to add (its per-step lists are stacked in place).
            demo_id: Custom index for the episode. If None, uses default index.
            dataset_compression: Compress every dataset with gzip.

        Raises:
            ValueError: If a demo of that name exists.
        """
        self._raise_if_not_initialized()
        if episode.is_empty():
            return
        with self._lock:
            with self._names_lock:
                name = f"demo_{self._demo_count if demo_id is None else demo_id}"
                reserved = self._reserved_running_names > 0 if demo_id is None else name in self._reserved_names
                if name in self._published_names or (not reserved and self._is_reserved(name)):
                    raise ValueError(f"Episode group '{name}' already exists in the dataset '{self.file_path}'")
            try:
                self._write_and_publish(name, episode, dataset_compression)
            except BaseException:
                # the demo is not in the file: its reservation is given up, and later running names move down
                with self._names_lock:
                    self._release(name, demo_id, reserved)
                raise
            with self._names_lock:
                self._release(name, demo_id, reserved)
                self._published_names.add(name)
                # custom demo ids do not advance the default naming sequence
                if demo_id is None:
                    self._demo_count += 1

    def flush(self):
        """Flush the episode data to disk.

        Raises:
            FileNotFoundError: If the file was deleted or replaced on disk while open: what was written to it since
                is lost when it closes.
        """
        with self._lock:
            self._raise_if_not_initialized()
            self._hdf5_file_stream.flush()
            path = self._hdf5_file_stream.filename
            if self._file_identity is not None and _file_identity(path) != self._file_identity:
                raise FileNotFoundError(
                    f"The dataset file '{path}' was deleted or replaced while it was being written: the"
                    f" {len(self._published_names)} demo(s) written to it are lost when it closes."
                )

    def close(self):
        """Flush and close the dataset file handler. Calling it again does nothing."""
        with self._lock:
            if self._hdf5_file_stream is None:
                return
            stream, self._hdf5_file_stream, self._hdf5_data_group = self._hdf5_file_stream, None, None
            self._compressor.shutdown()
            try:
                stream.flush()
            finally:
                stream.close()

    def _raise_if_not_initialized(self):
        """Raise an error if the dataset file handler is not initialized."""
        if self._hdf5_file_stream is None:
            raise RuntimeError("HDF5 dataset file stream is not initialized")

    def _write_and_publish(self, name: str, episode: EpisodeData, dataset_compression: bool) -> None:
        """Write the episode into an anonymous group, then link it as ``/data/<name>`` and count its samples."""
        episode.pre_export()
        arrays = _to_numpy(episode.data)
        num_samples = len(arrays.get("actions", ()))
        h5_episode_group = self._hdf5_file_stream.create_group(None)
        h5_episode_group.attrs["num_samples"] = num_samples
        if episode.seed is not None:
            h5_episode_group.attrs["seed"] = episode.seed
        if episode.success is not None:
            h5_episode_group.attrs["success"] = episode.success
        codec = self._compression_codec if dataset_compression else "none"
        self._write_group(h5_episode_group, arrays, codec)
        self._hdf5_data_group[name] = h5_episode_group
        self._hdf5_data_group.attrs["total"] += num_samples

    def _write_group(self, group, arrays: dict, codec: str) -> None:
        for key, value in arrays.items():
            if isinstance(value, dict):
                self._write_group(group.create_group(key), value, codec)
            elif codec == "gzip":
                self._compressor.create_dataset(group, key, value, self._lock)
            else:
                group.create_dataset(key, data=value, compression="lzf" if codec == "lzf" else None)

    def _reset_names(self, published: set[str]) -> None:
        with self._names_lock:
            self._published_names = published
            self._reserved_names = set()
            self._reserved_running_names = 0
            self._demo_count = len(published)

    def _release(self, name: str, demo_id: int | None, reserved: bool) -> None:
        """Give up the reservation a write took (call with the names lock held)."""
        if reserved and demo_id is None:
            self._reserved_running_names -= 1
        elif reserved:
            self._reserved_names.discard(name)

    def _is_reserved_running(self, name: str) -> bool:
        """Whether a name is one of the running-count names reserved but not written yet."""
        first = self._demo_count
        return any(name == f"demo_{index}" for index in range(first, first + self._reserved_running_names))

    def _is_reserved(self, name: str) -> bool:
        return name in self._reserved_names or self._is_reserved_running(name)

    @staticmethod
    def convert_dataset_to_xyzw(input_path: str, output_path: str | None = None) -> str:
        """Convert a legacy dataset from WXYZ to XYZW quaternion format.

        Reads a dataset file, converts every ``root_pose`` quaternion from the legacy WXYZ format to XYZW, and
        writes the result to a new file.

        Args:
            input_path: Path to the input dataset file (legacy WXYZ format).
            output_path: Path for the output dataset file. If None, appends '_xyzw' to input filename.

        Returns:
            Path to the converted dataset file.

        Raises:
            FileNotFoundError: If the input file does not exist.
            ValueError: If the dataset is already in XYZW format.
        """
        import h5py

        if not os.path.exists(input_path):
            raise FileNotFoundError(f"Input dataset file not found: {input_path}")
        if output_path is None:
            base, ext = os.path.splitext(input_path)
            output_path = f"{base}_xyzw{ext}"

        def copy_converted(src_group, dst_group):
            for attr_name, attr_value in src_group.attrs.items():
                dst_group.attrs[attr_name] = attr_value
            for key, item in src_group.items():
                if isinstance(item, h5py.Group):
                    copy_converted(item, dst_group.create_group(key))
                    continue
                data = np.array(item)
                if key == "root_pose" and data.shape[-1] == 7:
                    data = convert_pose_quat_wxyz_to_xyzw(data)
                dst_group.create_dataset(key, data=data, compression=item.compression)

        with h5py.File(input_path, "r") as src_file:
            version = src_file.attrs.get("format_version", 0)
            if version >= DATASET_FORMAT_VERSION:
                raise ValueError(f"Dataset is already in XYZW format (version {version})")
            with h5py.File(output_path, "w") as dst_file:
                copy_converted(src_file, dst_file)
                dst_file.attrs["format_version"] = DATASET_FORMAT_VERSION
        return output_path


def _file_identity(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at a path, or None if there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _to_numpy(node: dict) -> dict:
    """The (nested) dict of tensors as numpy arrays."""
    converted = {}
    for key, value in node.items():
        if isinstance(value, dict):
            converted[key] = _to_numpy(value)
        elif isinstance(value, torch.Tensor):
            converted[key] = value.detach().cpu().numpy()
        else:
            converted[key] = np.asarray(value)
    return converted


def _load_group(group, device: str, convert_legacy_quat: bool) -> dict:
    import h5py

    data = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            data[key] = _load_group(item, device, convert_legacy_quat)
            continue
        # reading into numpy first is much faster than building the tensor from the HDF5 dataset
        np_data = np.array(item)
        if convert_legacy_quat and key == "root_pose" and np_data.shape[-1] == 7:
            np_data = convert_pose_quat_wxyz_to_xyzw(np_data)
        data[key] = torch.tensor(np_data, device=device)
    return data
