# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from ..math import convert_quat
from .chunk_compression import ChunkCompressor, check_compression, chunk_rows
from .dataset_file_handler_base import DatasetFileHandlerBase
from .episode_data import EpisodeData
from .locking import locked

try:
    import fcntl
except ImportError:  # not on Windows: the check for a file another process writes is skipped there
    fcntl = None

# Current dataset format version
# Version 1: XYZW quaternion format (current)
# Version 0 (or missing): Legacy WXYZ quaternion format
DATASET_FORMAT_VERSION = 1


def convert_pose_quat_wxyz_to_xyzw(pose: np.ndarray) -> np.ndarray:
    """Convert pose quaternion from WXYZ format to XYZW format.

    The pose is expected to have shape (..., 7) where the first 3 elements are position
    and the last 4 elements are the quaternion.

    Args:
        pose: Pose array with shape (..., 7) where quaternion is in WXYZ format.

    Returns:
        Pose array with shape (..., 7) where quaternion is in XYZW format.
    """
    position = pose[..., :3]
    quat_wxyz = pose[..., 3:7]
    quat_xyzw = convert_quat(quat_wxyz, to="xyzw")
    return np.concatenate([position, quat_xyzw], axis=-1)


class HDF5DatasetFileHandler(DatasetFileHandlerBase):
    """HDF5 dataset file handler for storing and loading episode data.

    The file stays open for the handler's life, and one lock guards every HDF5 call on it, so that a background writer
    thread and other threads can use the handler at once. A demo is built in an anonymous group and linked under
    ``/data`` only when complete, so a reader, or a file left by a killed process, never sees a half-written demo.
    Demo names can be reserved ahead of the write (:meth:`reserve_episode_names`), without waiting for a write in
    progress.
    """

    def __init__(self):
        """Initializes the HDF5 dataset file handler."""
        self._hdf5_file_stream = None
        self._hdf5_data_group = None
        self._demo_count = 0
        self._env_args = {}
        self._file_path = None
        # every HDF5 call on the file holds this lock
        self._lock = threading.RLock()
        # the demo names in the file and those reserved for demos not written yet; never waits for the file lock
        self._names_lock = threading.Lock()
        self._published_names: set[str] = set()
        self._reserved_names: set[str] = set()
        self._reserved_running_names = 0
        # device and inode of the open file, to notice that it was deleted or replaced on disk
        self._file_identity = None
        # how datasets are compressed when dataset_compression is on (see configure_compression)
        self._compression_codec = "gzip"
        self._compression_level = 2
        self._compressor = ChunkCompressor(self._compression_level, 1)

    @locked
    def open(self, file_path: str, mode: str = "r"):
        """Open an existing dataset file.

        Raises:
            RuntimeError: If the handler already has a file open.
            FileNotFoundError: If there is no file at the path.
            ValueError: If the file has no ``/data`` group.
        """
        import h5py

        if self._hdf5_file_stream is not None:
            raise RuntimeError("HDF5 dataset file stream is already in use")
        if not os.path.isfile(file_path):
            raise FileNotFoundError(f"Dataset file not found: '{file_path}'.")
        if mode != "r":
            _refuse_if_written_elsewhere(file_path)
        stream = h5py.File(file_path, mode)
        if "data" not in stream:
            stream.close()
            raise ValueError(f"'{file_path}' is not a dataset file: it has no '/data' group.")
        self._hdf5_file_stream = stream
        self._hdf5_data_group = stream["data"]
        self._file_path = file_path
        self._file_identity = _file_identity(file_path)
        self._demo_count = len(self._hdf5_data_group)
        with self._names_lock:
            self._published_names = set(self._hdf5_data_group)

    @locked
    def create(self, file_path: str, env_name: str | None = None):
        """Create a new dataset file (``.hdf5`` is appended if missing; parent directories are created).

        Raises:
            RuntimeError: If the handler already has a file open.
            IsADirectoryError: If the path names a directory.
            BlockingIOError: If another process has the file open for writing (the file is left untouched).
        """
        import h5py

        if self._hdf5_file_stream is not None:
            raise RuntimeError("HDF5 dataset file stream is already in use")
        if not file_path.endswith(".hdf5"):
            file_path += ".hdf5"
        if os.path.isdir(file_path):
            raise IsADirectoryError(f"Cannot create the dataset file '{file_path}': it is a directory.")
        dir_path = os.path.dirname(file_path)
        if dir_path:
            os.makedirs(dir_path, exist_ok=True)
        _refuse_if_written_elsewhere(file_path)
        self._hdf5_file_stream = h5py.File(file_path, "w")
        self._file_path = file_path
        self._file_identity = _file_identity(file_path)

        # Set the dataset format version
        self._hdf5_file_stream.attrs["format_version"] = DATASET_FORMAT_VERSION

        # set up a data group in the file
        self._hdf5_data_group = self._hdf5_file_stream.create_group("data")
        self._hdf5_data_group.attrs["total"] = 0
        self._demo_count = 0

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

    @locked
    def add_env_args(self, env_args: dict):
        """Add environment arguments to the dataset."""
        self._raise_if_not_initialized()
        stored_env_args = self._hdf5_data_group.attrs.get("env_args")
        self._env_args = json.loads(stored_env_args) if stored_env_args is not None else {}
        self._env_args.update(env_args)
        self._hdf5_data_group.attrs["env_args"] = json.dumps(self._env_args)

    def set_env_name(self, env_name: str):
        """Set the environment name."""
        self._raise_if_not_initialized()
        self.add_env_args({"env_name": env_name})

    @locked
    def get_env_name(self) -> str | None:
        """Get the environment name."""
        self._raise_if_not_initialized()
        return json.loads(self._hdf5_data_group.attrs["env_args"]).get("env_name")

    @locked
    def get_episode_names(self) -> Iterable[str]:
        """Get the names of the episodes in the file."""
        self._raise_if_not_initialized()
        return list(self._hdf5_data_group.keys())

    def get_num_episodes(self) -> int:
        """Get number of episodes in the file."""
        return self._demo_count

    @property
    def demo_count(self) -> int:
        """The number of demos collected so far."""
        return self._demo_count

    @property
    def file_path(self) -> str | None:
        """The path of the open file, or None."""
        return self._file_path if self._hdf5_file_stream is not None else None

    """
    Operations.
    """

    def configure_compression(self, codec: str = "gzip", level: int = 2, threads: int = 1):
        """Choose how datasets are written when :meth:`write_episode` is called with ``dataset_compression``.

        Every dataset is chunked by whole rows (camera frames), about 256 KiB a chunk. gzip chunks are deflated
        outside HDF5 (with ISA-L when the ``isal`` package is installed), on the writing thread and ``threads - 1``
        pool threads, and stored with HDF5's standard deflate filter; lzf is compressed by HDF5; none writes the data
        as is, unchunked.

        Args:
            codec: gzip, lzf or none.
            level: The gzip level, 0-9 (default 2, as Isaac Lab writes).
            threads: The number of threads that deflate gzip chunks, the writing thread included.

        Raises:
            ValueError: If the codec is unknown, the level is out of range, or the thread count is not positive.
        """
        check_compression(codec, level, threads)
        with self._lock:
            self._compressor.shutdown()
            self._compression_codec = codec
            self._compression_level = level
            self._compressor = ChunkCompressor(level, threads)

    @locked
    def get_format_version(self) -> int:
        """Get the dataset format version.

        Returns:
            The format version number. Returns 0 for legacy datasets without version info.
        """
        self._raise_if_not_initialized()
        if "format_version" in self._hdf5_file_stream.attrs:
            return int(self._hdf5_file_stream.attrs["format_version"])
        return 0  # Legacy format

    def is_legacy_quaternion_format(self) -> bool:
        """Check if the dataset uses the legacy WXYZ quaternion format.

        Returns:
            True if the dataset uses WXYZ format (version 0), False if it uses XYZW format.
        """
        return self.get_format_version() < DATASET_FORMAT_VERSION

    @locked
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
        import h5py

        self._raise_if_not_initialized()
        if episode_name not in self._hdf5_data_group:
            return None

        # Auto-detect if conversion is needed
        if convert_legacy_quat is None:
            convert_legacy_quat = self.is_legacy_quaternion_format()

        episode = EpisodeData()
        h5_episode_group = self._hdf5_data_group[episode_name]

        def load_dataset_helper(group, path=""):
            """Helper method to load dataset that contains recursive dict objects."""
            data = {}
            for key in group:
                current_path = f"{path}/{key}" if path else key
                if isinstance(group[key], h5py.Group):
                    data[key] = load_dataset_helper(group[key], current_path)
                else:
                    # Converting group[key] to numpy array greatly improves the performance
                    # when converting to torch tensor
                    np_data = np.array(group[key])

                    # Convert legacy quaternions if needed
                    if convert_legacy_quat and key == "root_pose" and np_data.shape[-1] == 7:
                        np_data = convert_pose_quat_wxyz_to_xyzw(np_data)

                    data[key] = torch.tensor(np_data, device=device)
            return data

        episode.data = load_dataset_helper(h5_episode_group)

        if "seed" in h5_episode_group.attrs:
            episode.seed = h5_episode_group.attrs["seed"]

        if "success" in h5_episode_group.attrs:
            episode.success = h5_episode_group.attrs["success"]

        episode.env_id = self.get_env_name()

        return episode

    def reserve_episode_names(self, demo_ids: Sequence[int | None]) -> list[str]:
        """Reserve the names of episodes that :meth:`write_episode` writes later, all or none, without waiting for a
        write in progress. If a write fails, the later names of the running count move down by one (no gap).

        Args:
            demo_ids: For each episode, a custom demo index, or None for the next name of the running count.

        Returns:
            The name each episode is expected to get.

        Raises:
            RuntimeError: If no file is open.
            ValueError: If a name is taken (written, or reserved): then nothing is reserved.
        """
        self._raise_if_not_initialized()
        with self._names_lock:
            names = []
            running = self._reserved_running_names
            for demo_id in demo_ids:
                name = f"demo_{self._demo_count + running if demo_id is None else demo_id}"
                running += demo_id is None
                if name in names or self._is_taken(name, running_names=running - (demo_id is None)):
                    raise ValueError(f"Episode group '{name}' already exists in the dataset '{self._file_path}'")
                names.append(name)
            self._reserved_running_names = running
            self._reserved_names.update(name for name, demo_id in zip(names, demo_ids) if demo_id is not None)
            return names

    def release_episode_names(self, demo_ids: Sequence[int | None]) -> None:
        """Give back names reserved with :meth:`reserve_episode_names` for episodes that will not be written.

        Args:
            demo_ids: The demo ids the names were reserved for (None for a name of the running count).
        """
        with self._names_lock:
            for demo_id in demo_ids:
                self._release(demo_id, reserved=True)

    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True):
        """Add an episode to the dataset, and publish it under ``/data`` once it is complete.

        The caller decides when to :meth:`flush`.

        Args:
            episode: The episode data to add.
            demo_id: Custom index for the episode. If None, uses default index.
            dataset_compression: Compress every dataset (see :meth:`configure_compression`).

        Raises:
            ValueError: If a demo of that name exists.
        """
        self._raise_if_not_initialized()
        if episode.is_empty():
            return
        with self._lock:
            with self._names_lock:
                episode_group_name = f"demo_{self._demo_count if demo_id is None else demo_id}"
                if demo_id is None:
                    reserved = self._reserved_running_names > 0
                    taken = not reserved and self._is_taken(episode_group_name, self._reserved_running_names)
                else:
                    reserved = episode_group_name in self._reserved_names
                    taken = not reserved and self._is_taken(episode_group_name, self._reserved_running_names)
                if taken or episode_group_name in self._published_names:
                    raise ValueError(f"Episode group '{episode_group_name}' already exists in the dataset")
            try:
                self._write_and_publish(episode_group_name, episode, dataset_compression)
            except BaseException:
                # the demo is not in the file: its name is free again (a running name goes to the next episode)
                with self._names_lock:
                    self._release(demo_id, reserved)
                raise
            with self._names_lock:
                self._release(demo_id, reserved)
                self._published_names.add(episode_group_name)
                # custom demo ids do not advance the default naming sequence
                if demo_id is None:
                    self._demo_count += 1

    @locked
    def flush(self):
        """Flush the episode data to disk.

        Raises:
            FileNotFoundError: If the file was deleted or replaced on disk while open: what was written to it since
                is lost when it closes.
        """
        self._raise_if_not_initialized()
        self._hdf5_file_stream.flush()
        if self._file_identity is not None and _file_identity(self._file_path) != self._file_identity:
            raise FileNotFoundError(
                f"The dataset file '{self._file_path}' was deleted or replaced while it was being written: the"
                f" {len(self._published_names)} demo(s) written to it are lost when it closes."
            )

    @locked
    def close(self):
        """Flush and close the dataset file handler. Calling it again does nothing."""
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
        """Write the episode into an anonymous group, then link it as ``/data/<name>`` and count its samples.

        gzip chunks are compressed before the file lock is taken; the HDF5 calls then run in one locked section.
        """
        arrays = _to_numpy(episode.data)
        codec = self._compression_codec if dataset_compression else "none"
        compressed = []
        if codec == "gzip":
            compressed = self._compressor.compress([array for _, array in _leaves(arrays) if _is_chunked(array)])
        num_samples = len(arrays.get("actions", ()))
        with self._lock:
            h5_episode_group = self._hdf5_file_stream.create_group(None)
            h5_episode_group.attrs["num_samples"] = num_samples
            if episode.seed is not None:
                h5_episode_group.attrs["seed"] = episode.seed
            if episode.success is not None:
                h5_episode_group.attrs["success"] = episode.success
            self._write_group(h5_episode_group, arrays, codec, iter(compressed), name, "")
            self._hdf5_data_group[name] = h5_episode_group
            self._hdf5_data_group.attrs["total"] += num_samples

    def _write_group(
        self, group, arrays: dict, codec: str, compressed: Iterable[list[bytes]], name: str, prefix: str
    ) -> None:
        for key, array in arrays.items():
            if isinstance(array, dict):
                self._write_group(group.create_group(key), array, codec, compressed, name, f"{prefix}{key}/")
                continue
            try:
                if codec == "none" or not _is_chunked(array):
                    group.create_dataset(key, data=array)
                    continue
                chunks = (chunk_rows(array), *array.shape[1:])
                if codec == "lzf":
                    group.create_dataset(key, data=array, chunks=chunks, compression="lzf")
                    continue
                dataset = group.create_dataset(
                    key,
                    shape=array.shape,
                    dtype=array.dtype,
                    chunks=chunks,
                    compression="gzip",
                    compression_opts=self._compression_level,
                )
                for index, data in enumerate(next(compressed)):
                    dataset.id.write_direct_chunk((index * chunks[0],) + (0,) * (array.ndim - 1), data)
            except Exception as error:
                raise RuntimeError(
                    f"Writing '{prefix}{key}' of {name} to '{self._file_path}' failed: {type(error).__name__}: {error}"
                ) from error

    def _is_taken(self, name: str, running_names: int) -> bool:
        """Whether a name is written or reserved (call with the names lock held)."""
        first = self._demo_count
        running = {f"demo_{index}" for index in range(first, first + running_names)}
        return name in self._published_names or name in self._reserved_names or name in running

    def _release(self, demo_id: int | None, reserved: bool) -> None:
        """Give up a reservation (call with the names lock held)."""
        if reserved and demo_id is None:
            self._reserved_running_names -= 1
        elif reserved:
            self._reserved_names.discard(f"demo_{demo_id}")

    @staticmethod
    def convert_dataset_to_xyzw(input_path: str, output_path: str | None = None) -> str:
        """Convert a legacy dataset from WXYZ to XYZW quaternion format.

        This method reads a dataset file, converts all quaternions from the legacy WXYZ format
        to the current XYZW format, and writes the result to a new file.

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

        # Generate output path if not provided
        if output_path is None:
            base, ext = os.path.splitext(input_path)
            output_path = f"{base}_xyzw{ext}"

        def convert_group_quaternions(src_group, dst_group):
            """Recursively copy and convert quaternions in groups."""
            # Copy attributes
            for attr_name, attr_value in src_group.attrs.items():
                dst_group.attrs[attr_name] = attr_value

            # Process items
            for key in src_group:
                if isinstance(src_group[key], h5py.Group):
                    # Recursively handle groups
                    dst_subgroup = dst_group.create_group(key)
                    convert_group_quaternions(src_group[key], dst_subgroup)
                else:
                    # Handle datasets
                    data = np.array(src_group[key])

                    # Convert root_pose quaternions
                    if key == "root_pose" and data.shape[-1] == 7:
                        data = convert_pose_quat_wxyz_to_xyzw(data)

                    # Preserve compression settings if possible
                    compression = src_group[key].compression
                    dst_group.create_dataset(key, data=data, compression=compression)

        with h5py.File(input_path, "r") as src_file:
            # Check if already converted
            if "format_version" in src_file.attrs and src_file.attrs["format_version"] >= DATASET_FORMAT_VERSION:
                raise ValueError(f"Dataset is already in XYZW format (version {src_file.attrs['format_version']})")

            with h5py.File(output_path, "w") as dst_file:
                # Set the new format version
                dst_file.attrs["format_version"] = DATASET_FORMAT_VERSION

                # Copy and convert all data
                convert_group_quaternions(src_file, dst_file)

        return output_path


def _refuse_if_written_elsewhere(file_path: str) -> None:
    """Raise, without touching the file, if another process has it open for writing (and so holds HDF5's lock).

    Raises:
        BlockingIOError: If the file is locked by another process.
    """
    if fcntl is None or not os.path.isfile(file_path):
        return
    descriptor = os.open(file_path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BlockingIOError(
            errno.EWOULDBLOCK,
            f"The dataset file '{file_path}' is open for writing in another process; it was left as it is. Choose"
            " another file, or stop that process first.",
        ) from None
    finally:
        os.close(descriptor)


def _file_identity(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at a path, or None if there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _to_numpy(node: dict) -> dict:
    """The (nested) dict of tensors (or per-step lists of them, stacked here) as C-contiguous numpy arrays."""
    converted = {}
    for key, value in node.items():
        if isinstance(value, dict):
            converted[key] = _to_numpy(value)
            continue
        if isinstance(value, list):
            value = torch.stack(value)
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        # C order, as the chunks are cut from the memory (np.ascontiguousarray would make a scalar 1-D)
        converted[key] = np.require(value, requirements="C")
    return converted


def _leaves(node: dict):
    """``(key, array)`` for every array of a nested dict, depth first in insertion order."""
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value)
        else:
            yield key, value


def _is_chunked(array: np.ndarray) -> bool:
    """Whether a dataset is stored in chunks (and compressed): every one with rows, not a scalar or empty one."""
    return array.ndim > 0 and array.size > 0
