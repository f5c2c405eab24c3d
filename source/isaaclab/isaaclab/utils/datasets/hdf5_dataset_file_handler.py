"""The HDF5 dataset file handler (the layout Isaac Lab writes and robomimic-style loaders read)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from typing import Any

import h5py
import numpy as np
import torch

from .dataset_file_handler_base import DatasetFileHandlerBase
from .episode_data import EpisodeData

FORMAT_VERSION = 1
"""Version of the file layout, stored in the root attribute ``format_version`` (quaternions stored x, y, z, w)."""

GZIP_LEVEL = 2
"""gzip level of every dataset when compression is on."""


class HDF5DatasetFileHandler(DatasetFileHandlerBase):
    """Reads and writes datasets in HDF5 files, one group ``/data/demo_<N>`` per episode.

    The file stays open for the handler's life and every HDF5 call on it holds one lock, so a writer thread and the
    caller can use the handler at the same time; reserving a demo name takes only a light lock of its own, so the
    caller never waits for a write in progress. An episode is written into an anonymous group and linked under
    ``/data`` only once complete, so a reader (or a file left by a killed process) never sees a half-written demo.
    """

    def __init__(self) -> None:
        """Create a handler with no file attached."""
        self._hdf5_file_stream: h5py.File | None = None
        self._hdf5_data_group: h5py.Group | None = None
        self._demo_count = 0
        # names of published and reserved demos, kept in memory so reserving a name never waits for an HDF5 call
        self._published_names: set[str] = set()
        self._reserved_names: set[str] = set()
        self._names_lock = threading.Lock()
        self._lock = threading.RLock()

    """
    Properties.
    """

    @property
    def demo_count(self) -> int:
        """The number of demos named by the running count so far (the next default name is ``demo_<demo_count>``)."""
        return self._demo_count

    @property
    def file_path(self) -> str | None:
        """The path of the open file, or None."""
        return None if self._hdf5_file_stream is None else self._hdf5_file_stream.filename

    """
    Opening and closing.
    """

    def create(self, file_path: str, env_name: str | None = None) -> None:
        """Create a new dataset file, replacing any file at that path.

        Args:
            file_path: The file path; ``.hdf5`` is appended if missing, parent folders are created, a bare file name
                means the current directory.
            env_name: The environment name stored in ``env_args``.

        Raises:
            RuntimeError: If the handler already has a file open.
            IsADirectoryError: If the path names a directory.
        """
        with self._lock:
            self._raise_if_in_use()
            if not file_path.endswith(".hdf5"):
                file_path += ".hdf5"
            if os.path.isdir(file_path):
                raise IsADirectoryError(f"Cannot create the dataset file '{file_path}': it is a directory.")
            dir_path = os.path.dirname(file_path)
            if dir_path:
                os.makedirs(dir_path, exist_ok=True)
            self._hdf5_file_stream = h5py.File(file_path, "w")
            self._hdf5_file_stream.attrs["format_version"] = FORMAT_VERSION
            self._hdf5_data_group = self._hdf5_file_stream.create_group("data")
            self._hdf5_data_group.attrs["total"] = 0
            self._reset_names(set())
            # the environment type 2 is the gym type of robomimic's env registry
            self.add_env_args({"env_name": env_name if env_name is not None else "", "type": 2})
            self._hdf5_file_stream.flush()

    def open(self, file_path: str, mode: str = "r") -> None:
        """Open an existing dataset file.

        Args:
            file_path: The file path.
            mode: The h5py file mode (``"r"``, ``"r+"`` or ``"a"``).

        Raises:
            RuntimeError: If the handler already has a file open.
            FileNotFoundError: If the file does not exist.
            ValueError: If the file has no ``/data`` group.
        """
        with self._lock:
            self._raise_if_in_use()
            if not os.path.isfile(file_path):
                raise FileNotFoundError(f"Dataset file not found: '{file_path}'.")
            stream = h5py.File(file_path, mode)
            if "data" not in stream:
                stream.close()
                raise ValueError(f"'{file_path}' is not a dataset file: it has no '/data' group.")
            self._hdf5_file_stream = stream
            self._hdf5_data_group = stream["data"]
            self._reset_names(set(self._hdf5_data_group.keys()))

    def flush(self) -> None:
        """Write everything buffered to the file (published demos and attributes)."""
        with self._lock:
            if self._hdf5_file_stream is not None:
                self._hdf5_file_stream.flush()

    def close(self) -> None:
        """Flush and close the file. Calling it again does nothing."""
        with self._lock:
            if self._hdf5_file_stream is None:
                return
            self._hdf5_file_stream.flush()
            self._hdf5_file_stream.close()
            self._hdf5_file_stream = None
            self._hdf5_data_group = None

    """
    Metadata.
    """

    def add_env_args(self, env_args: dict[str, Any]) -> None:
        """Merge the given entries into the JSON string attribute ``/data.env_args``."""
        with self._lock:
            self._raise_if_not_initialized()
            stored = json.loads(self._hdf5_data_group.attrs.get("env_args", "{}"))
            stored.update(env_args)
            self._hdf5_data_group.attrs["env_args"] = json.dumps(stored)

    def get_env_name(self) -> str | None:
        """The environment name stored in ``env_args``, or None."""
        with self._lock:
            self._raise_if_not_initialized()
            env_args = json.loads(self._hdf5_data_group.attrs.get("env_args", "{}"))
            return env_args.get("env_name")

    def get_episode_names(self) -> Iterable[str]:
        """The names of the demos under ``/data``."""
        with self._lock:
            self._raise_if_not_initialized()
            return list(self._hdf5_data_group.keys())

    def get_num_episodes(self) -> int:
        """The number of demos under ``/data``."""
        with self._lock:
            self._raise_if_not_initialized()
            return len(self._hdf5_data_group)

    """
    Episodes.
    """

    def reserve_episode_name(self, demo_id: int | None = None) -> str:
        """Reserve the name the next episode is written under.

        Args:
            demo_id: A custom demo index (does not advance the running count), or None for ``demo_<demo_count>``.

        Returns:
            The reserved name.

        Raises:
            ValueError: If a demo of that name exists or is reserved.
        """
        self._raise_if_not_initialized()
        with self._names_lock:
            name = f"demo_{demo_id if demo_id is not None else self._demo_count}"
            if name in self._published_names or name in self._reserved_names:
                raise ValueError(f"Episode '{name}' already exists in the dataset file '{self.file_path}'.")
            self._reserved_names.add(name)
            if demo_id is None:
                self._demo_count += 1
            return name

    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True) -> None:
        """Write an episode as ``/data/demo_<N>``; an empty episode is skipped.

        Args:
            episode: The episode (per-step lists are stacked in place).
            demo_id: A custom demo index, or None for the running count.
            dataset_compression: Compress every dataset with gzip.

        Raises:
            ValueError: If a demo of that name exists.
        """
        if episode.is_empty():
            return
        self.write_reserved_episode(self.reserve_episode_name(demo_id), episode, dataset_compression)

    def write_reserved_episode(self, episode_name: str, episode: EpisodeData, dataset_compression: bool = True) -> None:
        """Write an episode under a reserved name, and publish it under ``/data`` once complete.

        Stacking and conversion to numpy happen outside the lock; the demo is built in an anonymous group and linked
        under ``/data`` (with ``total`` updated) in one locked step. The caller decides when to :meth:`flush`.

        Args:
            episode_name: A name returned by :meth:`reserve_episode_name`.
            episode: The episode (per-step lists are stacked in place).
            dataset_compression: Compress every dataset with gzip.

        Raises:
            KeyError: If the name was not reserved.
        """
        self._raise_if_not_initialized()
        with self._names_lock:
            if episode_name not in self._reserved_names:
                raise KeyError(f"Episode name '{episode_name}' was not reserved with reserve_episode_name().")
        try:
            self._write_and_publish(episode_name, episode, dataset_compression)
        except BaseException:
            # the demo is not in the file: free its name (a custom id can be written again)
            with self._names_lock:
                self._reserved_names.discard(episode_name)
            raise

    def _write_and_publish(self, episode_name: str, episode: EpisodeData, dataset_compression: bool) -> None:
        episode.pre_export()
        arrays = _to_numpy_tree(episode.data)
        num_samples = len(arrays["actions"]) if "actions" in arrays else 0
        compression = {"compression": "gzip", "compression_opts": GZIP_LEVEL} if dataset_compression else {}

        with self._lock:
            group = self._hdf5_file_stream.create_group(None)
            group.attrs["num_samples"] = num_samples
            if episode.seed is not None:
                group.attrs["seed"] = episode.seed
            if episode.success is not None:
                group.attrs["success"] = bool(episode.success)
        _write_tree(group, arrays, compression, self._lock)
        with self._lock:
            self._hdf5_data_group[episode_name] = group
            self._hdf5_data_group.attrs["total"] = int(self._hdf5_data_group.attrs["total"]) + num_samples
        with self._names_lock:
            self._reserved_names.discard(episode_name)
            self._published_names.add(episode_name)

    def load_episode(self, episode_name: str, device: str) -> EpisodeData | None:
        """Load a demo as an :class:`EpisodeData` of stacked tensors, or None if there is no such demo.

        Args:
            episode_name: The demo name (``demo_<N>``).
            device: The torch device of the loaded tensors.
        """
        with self._lock:
            self._raise_if_not_initialized()
            if episode_name not in self._hdf5_data_group:
                return None
            group = self._hdf5_data_group[episode_name]
            episode = EpisodeData()
            episode.data = _load_tree(group, device)
            if "seed" in group.attrs:
                episode.seed = int(group.attrs["seed"])
            if "success" in group.attrs:
                episode.success = bool(group.attrs["success"])
            episode.env_id = self.get_env_name()
            return episode

    """
    Helpers.
    """

    def _reset_names(self, published: set[str]) -> None:
        with self._names_lock:
            self._published_names = published
            self._reserved_names = set()
            self._demo_count = len(published)

    def _raise_if_in_use(self) -> None:
        if self._hdf5_file_stream is not None:
            raise RuntimeError(f"The handler already has the file '{self.file_path}' open.")

    def _raise_if_not_initialized(self) -> None:
        if self._hdf5_file_stream is None:
            raise RuntimeError("HDF5 dataset file stream is not opened, please use create() or open() first.")


def _to_numpy_tree(node: dict[str, Any]) -> dict[str, Any]:
    converted = {}
    for key, value in node.items():
        if isinstance(value, dict):
            converted[key] = _to_numpy_tree(value)
        elif isinstance(value, torch.Tensor):
            converted[key] = value.detach().cpu().numpy()
        else:
            converted[key] = np.asarray(value)
    return converted


def _write_tree(group: h5py.Group, arrays: dict[str, Any], compression: dict[str, Any], lock: threading.RLock) -> None:
    for key, value in arrays.items():
        with lock:
            if isinstance(value, dict):
                child = group.create_group(key)
            else:
                group.create_dataset(key, data=value, **compression)
                continue
        _write_tree(child, value, compression, lock)


def _load_tree(group: h5py.Group, device: str) -> dict[str, Any]:
    data = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            data[key] = _load_tree(item, device)
        else:
            data[key] = torch.from_numpy(np.asarray(item[()])).to(device)
    return data
