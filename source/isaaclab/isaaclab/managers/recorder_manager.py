# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause
"""Recorder manager for recording data produced from the given world."""

from __future__ import annotations

import dataclasses
import enum
import os
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import warp as wp
from prettytable import PrettyTable

from ..utils import configclass, instantiate
from ..utils.datasets import (
    EpisodeData,
    EpisodeWriteError,
    EpisodeWriteJob,
    EpisodeWriter,
    HDF5DatasetFileHandler,
    PagedEpisode,
    PagedEpisodeStore,
    writer_shutdown,
)
from ..utils.datasets.chunk_compression import check_compression, default_compression_threads
from ..utils.datasets.locking import locked
from .manager_base import ManagerBase, ManagerTermBase
from .manager_term_cfg import RecorderTermCfg

if TYPE_CHECKING:
    from ..envs import ManagerBasedEnv
    from ..utils.datasets import DatasetFileHandlerBase, PoolStatistics, WriterStatistics


class DatasetExportMode(enum.IntEnum):
    """The mode to handle episode exports."""

    EXPORT_NONE = 0  # Export none of the episodes
    EXPORT_ALL = 1  # Export all episodes to a single dataset file
    EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES = 2  # Export succeeded and failed episodes in separate files
    EXPORT_SUCCEEDED_ONLY = 3  # Export only succeeded episodes to a single dataset file


@configclass
class RecorderManagerBaseCfg:
    """Base class for configuring recorder manager terms."""

    dataset_file_handler_class_type: type = HDF5DatasetFileHandler

    dataset_file_handler_cfg: object | None = None
    """Settings of the dataset file handler, passed to its constructor when not None (for example a
    ``LeRobotDatasetCfg`` for a LeRobot dataset handler). Defaults to None: the handler is made with no arguments."""

    dataset_export_dir_path: str = "/tmp/isaaclab/logs"
    """The directory path where the recorded datasets are exported."""

    dataset_filename: str = "dataset"
    """Dataset file name without file extension."""

    dataset_export_mode: DatasetExportMode = DatasetExportMode.EXPORT_ALL
    """The mode to handle episode exports."""

    export_in_record_pre_reset: bool = True
    """Whether to export episodes in the record_pre_reset call."""

    export_in_close: bool = False
    """Whether to export episodes in the close call."""

    dataset_compression: bool = True
    """Enable dataset compression."""

    dataset_compression_codec: str = "gzip"
    """The codec of compressed datasets: ``"gzip"`` (deflate, with ISA-L when the ``isal`` package is installed),
    ``"lzf"`` (faster, larger files, compressed by HDF5) or ``"none"``. Used when :attr:`dataset_compression` is on,
    by handlers that support it (the HDF5 handler does)."""

    dataset_compression_level: int = 2
    """The gzip level, 0 (no compression) to 9 (smallest)."""

    dataset_compression_threads: int | None = None
    """The number of threads that deflate gzip chunks. Defaults to None: one (the writing thread, no pool), or every
    core but one with :attr:`async_write` (the simulation loop keeps one)."""

    async_write: bool = False
    """Whether to write exported episodes on one background thread.

    The export then only snapshots each episode and queues it, so the simulation loop does not wait on compression
    or file I/O while the queue has room. The files written are the same as without it.
    """

    early_cpu_offload: bool = False
    """Whether to keep the recorded steps in CPU memory, copied there as they are recorded.

    Device memory held by the recorder then stays at one step's worth, whatever the episode length.
    """

    async_queue_size: int = 16
    """The most exported episodes waiting to be written, with :attr:`async_write`. Exporting blocks while full."""

    async_queue_max_bytes: int = 1024**3
    """The most bytes of exported episodes waiting to be written, with :attr:`async_write`.

    Exporting blocks while the queue holds this much; one larger episode is still taken when the queue is empty.
    """


_SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(RecorderManagerBaseCfg))
"""The fields of :class:`RecorderManagerBaseCfg`: settings, never recorder terms."""

_TENSOR_OVERHEAD_BYTES = 256
"""The memory a tensor of a queued episode holds besides its data (object and storage bookkeeping), for the
queue's byte bound."""


class RecorderTerm(ManagerTermBase):
    """Base class for recorder terms.

    The recorder term is responsible for recording data at various stages of the environment's lifecycle.
    A recorder term is comprised of four user-defined callbacks to record data in the corresponding stages:

    * Pre-reset recording: This callback is invoked at the beginning of `env.reset()` before the reset is effective.
    * Post-reset recording: This callback is invoked at the end of `env.reset()`.
    * Pre-step recording: This callback is invoked at the beginning of `env.step()`, after the step action is processed
          and before the action is applied by the action manager.
    * Post-step recording: This callback is invoked at the end of `env.step()` when all the managers are processed.
    """

    def __init__(self, cfg: RecorderTermCfg, env: ManagerBasedEnv):
        """Initialize the recorder term.

        Args:
            cfg: The configuration object.
            env: The environment instance.
        """
        # call the base class constructor
        super().__init__(cfg, env)

    """
    User-defined callbacks.
    """

    def record_pre_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, torch.Tensor | dict | None]:
        """Record data at the beginning of env.reset() before reset is effective.

        Args:
            env_ids: The environment ids. All environments should be considered when set to None.

        Returns:
            A tuple of key and value to be recorded.
            The key can contain nested keys separated by '/'. For example, "obs/joint_pos" would add the given
            value under ['obs']['policy'] in the underlying dictionary in the recorded episode data.
            The value can be a tensor or a nested dictionary of tensors. The shape of a tensor in the value
            is (env_ids, ...).
        """
        return None, None

    def record_post_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, torch.Tensor | dict | None]:
        """Record data at the end of env.reset().

        Args:
            env_ids: The environment ids. All environments should be considered when set to None.

        Returns:
            A tuple of key and value to be recorded.
            Please refer to the `record_pre_reset` function for more details.
        """
        return None, None

    def record_pre_step(self) -> tuple[str | None, torch.Tensor | dict | None]:
        """Record data in the beginning of env.step() after action is cached/processed in the ActionManager.

        Returns:
            A tuple of key and value to be recorded.
            Please refer to the `record_pre_reset` function for more details.
        """
        return None, None

    def record_post_step(self) -> tuple[str | None, torch.Tensor | dict | None]:
        """Record data at the end of env.step() when all the managers are processed.

        Returns:
            A tuple of key and value to be recorded.
            Please refer to the `record_pre_reset` function for more details.
        """
        return None, None

    def record_post_physics_decimation_step(self) -> tuple[str | None, torch.Tensor | dict | None]:
        """Record data after the physics step is executed in the decimation loop.

        Returns:
            A tuple of key and value to be recorded.
            Please refer to the `record_pre_reset` function for more details.
        """
        return None, None

    def close(self, file_path: str):
        """Finalize and "clean up" the recorder term.

        This can include tasks such as appending metadata (e.g. labels) to a file
        and properly closing any associated file handles or resources.

        Args:
            file_path: the absolute path to the file
        """
        pass


class RecorderManager(ManagerBase):
    """Manager for recording data from recorder terms.

    Recorded steps are kept in pages of one pool per key (:class:`~isaaclab.utils.datasets.PagedEpisodeStore`), so
    recording a batch costs one indexed copy per key, whatever the number of environments. Exported episodes are
    written by an :class:`~isaaclab.utils.datasets.EpisodeWriter`: inline by default, or on one background thread
    with :attr:`RecorderManagerBaseCfg.async_write`, in which case the export only decides the file, reserves the demo
    name, gathers the episode into owned tensors and queues it. Either way the files are the same.

    The public methods may be called from several threads.
    """

    def __init__(self, cfg: object, env: ManagerBasedEnv):
        """Initialize the recorder manager.

        Args:
            cfg: The configuration object or dictionary (``dict[str, RecorderTermCfg]``).
            env: The environment instance.
        """
        self._term_names: list[str] = []
        self._terms: dict[str, RecorderTerm] = {}
        self._closed = False
        # guards the episodes and the export decisions; the counts have their own lock, taken by the writer thread
        self._lock = threading.RLock()

        # Do nothing if cfg is None or an empty dict
        if not cfg:
            return

        super().__init__(cfg, env)

        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        if not isinstance(cfg, RecorderManagerBaseCfg):
            raise TypeError("Configuration for the recorder manager is not of type RecorderManagerBaseCfg.")
        self.cfg.dataset_export_mode = _check_settings(self.cfg)

        self._counts_lock = threading.Lock()
        self._all_env_ids = np.arange(env.num_envs, dtype=np.int64)
        self._export_seconds = 0.0

        # the recorded steps of every environment, in pages on the record device (or in CPU memory with offload)
        self._store = PagedEpisodeStore(
            env.num_envs, "cpu" if cfg.early_cpu_offload else env.device, pin_memory=cfg.early_cpu_offload
        )
        # create episode data buffer indexed by environment id
        self._episodes: dict[int, EpisodeData] = dict()
        for env_id in range(env.num_envs):
            self._episodes[env_id] = self._new_episode(env_id)

        env_name = getattr(env.cfg, "env_name", None)

        self._dataset_file_handler = None
        if cfg.dataset_export_mode != DatasetExportMode.EXPORT_NONE:
            self._dataset_file_handler = self._create_dataset_file_handler(cfg.dataset_filename, env_name)

        self._failed_episode_dataset_file_handler = None
        if cfg.dataset_export_mode == DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES:
            self._failed_episode_dataset_file_handler = self._create_dataset_file_handler(
                f"{cfg.dataset_filename}_failed", env_name
            )
        # the episode metadata last merged into each file
        self._sent_env_args: dict[int, dict] = {}

        self._exported_successful_episode_count = {}
        self._exported_failed_episode_count = {}

        self._writer = EpisodeWriter(
            asynchronous=cfg.async_write,
            max_queue_episodes=cfg.async_queue_size,
            max_queue_bytes=cfg.async_queue_max_bytes,
        )
        # drains the writer and closes the files if the program ends without close()
        self._finalizer = weakref.finalize(self, _close_writer_and_files, self._writer, self._file_handlers())
        writer_shutdown.register(self._finalizer, background=cfg.async_write)

    def __str__(self) -> str:
        """Returns: A string representation for recorder manager."""
        msg = f"<RecorderManager> contains {len(self._term_names)} active terms.\n"
        # create table for term information
        table = PrettyTable()
        table.title = "Active Recorder Terms"
        table.field_names = ["Index", "Name"]
        # set alignment of table columns
        table.align["Name"] = "l"
        # add info on each term
        for index, name in enumerate(self._term_names):
            table.add_row([index, name])
        # convert table to string
        msg += table.get_string()
        msg += "\n"
        return msg

    def __del__(self):
        """Destructor for recorder."""
        self.close()

    """
    Properties.
    """

    @property
    def active_terms(self) -> list[str]:
        """Name of active recorder terms."""
        return self._term_names

    @property
    def exported_successful_episode_count(self, env_id=None) -> int:
        """Number of successful episodes: written to their file, or skipped by the export mode.

        With :attr:`RecorderManagerBaseCfg.async_write` an episode is counted once the writer has written it; call
        :meth:`flush` to wait for that. An episode whose write failed is not counted.

        Args:
            env_id: The environment id. Defaults to None, in which case all environments are considered.

        Returns:
            The number of successful episodes.
        """
        if not hasattr(self, "_exported_successful_episode_count"):
            return 0
        with self._counts_lock:
            if env_id is not None:
                return self._exported_successful_episode_count.get(env_id, 0)
            return sum(self._exported_successful_episode_count.values())

    @property
    def exported_failed_episode_count(self, env_id=None) -> int:
        """Number of failed episodes: written to their file, or skipped by the export mode (counted as
        :attr:`exported_successful_episode_count` is).

        Args:
            env_id: The environment id. Defaults to None, in which case all environments are considered.

        Returns:
            The number of failed episodes.
        """
        if not hasattr(self, "_exported_failed_episode_count"):
            return 0
        with self._counts_lock:
            if env_id is not None:
                return self._exported_failed_episode_count.get(env_id, 0)
            return sum(self._exported_failed_episode_count.values())

    @property
    def writer_statistics(self) -> WriterStatistics | None:
        """The episode writer's counters (episodes submitted, queued, written and failed, bytes, seconds writing and
        blocked), or None if the manager has no active terms."""
        if not hasattr(self, "_writer"):
            return None
        return self._writer.statistics

    @property
    def episode_memory(self) -> PoolStatistics | None:
        """The memory of the recorded steps (pages in use and held, bytes), or None if the manager has no active
        terms."""
        if not hasattr(self, "_store"):
            return None
        with self._lock:
            return self._store.statistics

    @property
    def export_seconds(self) -> float:
        """Seconds the callers spent in :meth:`export_episodes` (in asynchronous mode: gathering and queueing)."""
        return getattr(self, "_export_seconds", 0.0)

    """
    Operations.
    """

    @locked
    def reset(self, env_ids: Sequence[int] | slice | None = None) -> dict[str, torch.Tensor]:
        """Resets the recorder data.

        Args:
            env_ids: The environment ids. Defaults to None, in which case
                all environments are considered.

        Returns:
            An empty dictionary.
        """
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return {}
        env_ids = self._env_id_list(env_ids)

        for term in self._terms.values():
            term.reset(env_ids=env_ids)

        # the steps recorded go back to the pools
        self._store.release(env_ids)
        for env_id in env_ids:
            self._episodes[env_id] = self._new_episode(env_id)

        # nothing to log here
        return {}

    def get_episode(self, env_id: int) -> EpisodeData:
        """Returns the episode data for the given environment id.

        Args:
            env_id: The environment id.

        Returns:
            The episode data for the given environment id. While it is recorded, it shows every step recorded so far
            (see :class:`~isaaclab.utils.datasets.PagedEpisode`).
        """
        if len(self.active_terms) == 0:
            return EpisodeData()
        return self._episodes.get(env_id, EpisodeData())

    @locked
    def add_to_episodes(self, key: str, value: torch.Tensor | dict, env_ids: Sequence[int] | slice | None = None):
        """Adds the given key-value pair to the episodes for the given environment ids.

        Each tensor is copied into the environments' pages with one indexed copy (to the CPU with
        :attr:`RecorderManagerBaseCfg.early_cpu_offload`), whatever the number of environments. Every tensor of the
        value is checked before anything is added: a bad value raises and leaves every episode as it was.

        Args:
            key: The key of the given value to be added to the episodes. The key can contain nested keys
                separated by '/'. For example, "obs/joint_pos" would add the given value under ['obs']['policy']
                in the underlying dictionary in the episode data.
            value: The value to be added to the episodes. The value can be a tensor or a nested dictionary of tensors.
                The shape of a tensor in the value is (env_ids, ...).
            env_ids: The environment ids. Defaults to None, in which case all environments are considered.

        Raises:
            TypeError: If a value is neither a tensor nor a dict, is sparse, or has a dtype a file cannot store.
            ValueError: If a key is malformed or used both as a key and as a group, or a tensor does not have one row
                per environment id or does not match the row shape and dtype the key was recorded with.
        """
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        # a term that records nothing returns None
        if key is None or value is None:
            return
        env_ids = self._resolve_env_ids(env_ids)
        leaves = list(_flatten(key, value))
        self._store.check(leaves, env_ids)
        for leaf_key, batch in leaves:
            self._store.add(leaf_key, batch, env_ids)

    @locked
    def set_success_to_episodes(self, env_ids: Sequence[int] | slice | None, success_values: torch.Tensor):
        """Sets the task success values to the episodes for the given environment ids.

        Args:
            env_ids: The environment ids. Defaults to None, in which case all environments are considered.
            success_values: The task success values to be set to the episodes. The shape of the tensor is (env_ids, 1).
        """
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        env_ids = self._env_id_list(env_ids)
        if len(success_values) != len(env_ids):
            raise ValueError(
                f"success_values has {len(success_values)} entries but {len(env_ids)} environment ids were given."
            )
        for value_index, env_id in enumerate(env_ids):
            self._episodes[env_id].success = success_values[value_index].item()

    def record_pre_step(self) -> None:
        """Trigger recorder terms for pre-step functions."""
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        for term in self._terms.values():
            key, value = term.record_pre_step()
            self.add_to_episodes(key, value)

    def record_post_step(self) -> None:
        """Trigger recorder terms for post-step functions."""
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        for term in self._terms.values():
            key, value = term.record_post_step()
            self.add_to_episodes(key, value)

    def record_post_physics_decimation_step(self) -> None:
        """Trigger recorder terms for post-physics step functions in the decimation loop."""
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        for term in self._terms.values():
            key, value = term.record_post_physics_decimation_step()
            self.add_to_episodes(key, value)

    @locked
    def record_pre_reset(self, env_ids: Sequence[int] | slice | None, force_export_or_skip=None) -> None:
        """Trigger recorder terms for pre-reset functions.

        Args:
            env_ids: The environment ids in which a reset is triggered.
            force_export_or_skip: True exports the episodes, False does not; None exports them if
                :attr:`RecorderManagerBaseCfg.export_in_record_pre_reset` is set.
        """
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        env_ids = self._env_id_list(env_ids)

        for term in self._terms.values():
            key, value = term.record_pre_reset(env_ids)
            self.add_to_episodes(key, value, env_ids)

        # Set task success values for the relevant episodes
        success_results = torch.zeros(len(env_ids), dtype=bool, device=self._env.device)
        # Check success indicator from termination terms
        if hasattr(self._env, "termination_manager"):
            if "success" in self._env.termination_manager.active_terms:
                success_results |= self._env.termination_manager.get_term("success")[env_ids]
        self.set_success_to_episodes(env_ids, success_results)

        if force_export_or_skip or (force_export_or_skip is None and self.cfg.export_in_record_pre_reset):
            self.export_episodes(env_ids)

    @locked
    def record_post_reset(self, env_ids: Sequence[int] | slice | None) -> None:
        """Trigger recorder terms for post-reset functions.

        Args:
            env_ids: The environment ids in which a reset is triggered.
        """
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        # the terms get the ids as given, with None and slices as lists of ids
        if env_ids is None or isinstance(env_ids, slice):
            env_ids = self._env_id_list(env_ids)

        for term in self._terms.values():
            key, value = term.record_post_reset(env_ids)
            self.add_to_episodes(key, value, env_ids)

    def get_ep_meta(self) -> dict:
        """Get the episode metadata."""
        if not hasattr(self._env.cfg, "get_ep_meta"):
            # Add basic episode metadata
            ep_meta = dict()
            ep_meta["sim_args"] = {
                "dt": self._env.cfg.sim.dt,
                "decimation": self._env.cfg.decimation,
                "render_interval": self._env.cfg.sim.render_interval,
                "num_envs": self._env.cfg.scene.num_envs,
            }
            return ep_meta

        # Add custom episode metadata if available
        ep_meta = self._env.cfg.get_ep_meta()
        return ep_meta

    def export_episodes(
        self, env_ids: Sequence[int] | slice | None = None, demo_ids: Sequence[int] | None = None
    ) -> None:
        """Concludes and exports the episodes for the given environment ids.

        On the caller's thread this decides the target file of each episode (by export mode and success), reserves
        the demo names (all of them before any episode is handed over), gathers each episode into owned tensors and
        hands it to the episode writer; with :attr:`RecorderManagerBaseCfg.async_write` the writing happens on the
        writer thread, and this call blocks only while the writer's queue is full. Each exported environment starts a
        new, empty episode.

        Args:
            env_ids: The environment ids. Defaults to None, in which case
                all environments are considered.
            demo_ids: Custom identifiers for the exported episodes.
                If provided, episodes will be named "demo_{demo_id}" in the dataset.
                Should have the same length as env_ids if both are provided.
                If None, uses the default sequential naming scheme. Defaults to None.

        Raises:
            RuntimeError: If the manager is closed.
            ValueError: If ``demo_ids`` are not distinct non-negative integers, one per environment id, or a demo of
                that name exists: then nothing is exported.
            EpisodeWriteError: If episodes failed to be written since the last report (in synchronous mode: this
                call's). The episodes of this call are handed over first: nothing else is lost.
        """
        # Do nothing if no active recorder terms are provided
        if len(self.active_terms) == 0:
            return

        start = time.perf_counter()
        with self._lock, writer_shutdown.deferred_termination():
            if self._closed:
                raise RuntimeError(
                    "The recorder manager is closed: no more episodes can be exported to"
                    f" '{os.path.join(self.cfg.dataset_export_dir_path, self.cfg.dataset_filename)}'."
                )
            env_ids = self._env_id_list(env_ids)
            demo_ids = _resolve_demo_ids(demo_ids, len(env_ids))
            try:
                self._export(env_ids, demo_ids)
            finally:
                self._export_seconds += time.perf_counter() - start
        self._writer.raise_if_failed()

    def flush(self) -> None:
        """Wait until every exported episode is written (each is flushed to its file once written).

        Raises:
            EpisodeWriteError: If episodes failed to be written since the last report.
        """
        if len(self.active_terms) == 0 or self._closed:
            return
        self._writer.flush()

    def close(self):
        """Closes the recorder manager by exporting any remaining data to file as well as properly
        closes the recorder terms.

        Everything exported is written first (the writer thread is joined, without a timeout). Every file is closed
        and every term is closed, even if one of them fails. Calling it again does nothing.

        Raises:
            EpisodeWriteError: If episodes could not be written (with their count), or a file failed to close.
        """
        # Do nothing if no active recorder terms are provided (or the manager was not fully built)
        if len(self.active_terms) == 0 or not hasattr(self, "_finalizer"):
            return
        with self._lock:
            if self._closed:
                return
            try:
                if self._dataset_file_handler is not None and self.cfg.export_in_close:
                    self.export_episodes()
            finally:
                self._closed = True
                try:
                    self._finalizer()
                finally:
                    writer_shutdown.release()
                    for term in self._terms.values():
                        term.close(os.path.join(self.cfg.dataset_export_dir_path, self.cfg.dataset_filename))

    """
    Helper functions.
    """

    def _prepare_terms(self):
        """Prepares a list of recorder terms."""
        # check if config is dict already
        if isinstance(self.cfg, dict):
            cfg_items = self.cfg.items()
        else:
            cfg_items = self.cfg.__dict__.items()
        for term_name, term_cfg in cfg_items:
            # skip non-term settings
            if term_name in _SETTING_NAMES:
                continue
            # check if term config is None
            if term_cfg is None:
                continue
            if not isinstance(term_cfg, RecorderTermCfg):
                raise TypeError(
                    f"Configuration for the term '{term_name}' is not of type RecorderTermCfg."
                    f" Received: '{type(term_cfg)}'."
                )
            # create the recorder term
            term = instantiate(term_cfg, self._env)
            # sanity check if term is valid type
            if not isinstance(term, RecorderTerm):
                raise TypeError(f"Returned object for the term '{term_name}' is not of type RecorderTerm.")
            # add term name and parameters
            self._term_names.append(term_name)
            self._terms[term_name] = term

    def _new_episode(self, env_id: int) -> EpisodeData:
        """A new, empty episode of an environment, recorded into the pages."""
        return PagedEpisode(self._store, env_id, self._lock)

    def _create_dataset_file_handler(self, filename: str, env_name: str | None) -> DatasetFileHandlerBase:
        cfg = self.cfg
        handler_type = cfg.dataset_file_handler_class_type
        file_handler = (
            handler_type() if cfg.dataset_file_handler_cfg is None else handler_type(cfg.dataset_file_handler_cfg)
        )
        if hasattr(file_handler, "configure_compression"):
            threads = cfg.dataset_compression_threads or default_compression_threads(cfg.async_write)
            file_handler.configure_compression(cfg.dataset_compression_codec, cfg.dataset_compression_level, threads)
        file_handler.create(os.path.join(cfg.dataset_export_dir_path, filename), env_name=env_name)
        return file_handler

    def _file_handlers(self) -> list[DatasetFileHandlerBase]:
        handlers = [self._dataset_file_handler, self._failed_episode_dataset_file_handler]
        return [handler for handler in handlers if handler is not None]

    def _resolve_env_ids(self, env_ids: Any) -> np.ndarray:
        """Environment ids as an int64 array (see :func:`_resolve_env_ids`); None resolves without work."""
        if env_ids is None:
            return self._all_env_ids
        return _resolve_env_ids(env_ids, self._env.num_envs)

    def _env_id_list(self, env_ids: Any) -> list[int]:
        """Environment ids as a list of ints (see :func:`_resolve_env_ids`)."""
        return self._resolve_env_ids(env_ids).tolist()

    def _export(self, env_ids: list[int], demo_ids: list[int] | None) -> None:
        """Hand each non-empty episode to the writer (or count it if the export mode skips it); start new ones."""
        # the target file and demo id of each episode to write, and every name reserved before anything is handed over
        plan = []
        for index, env_id in enumerate(env_ids):
            episode = self._episodes[env_id]
            if not episode.is_empty():
                target = self._target_dataset_file_handler(bool(episode.success))
                plan.append((env_id, target, demo_ids[index] if demo_ids is not None else None))
        names = _reserve_names([(target, demo_id) for _, target, demo_id in plan if target is not None])
        env_args = self._env_args_updates() if plan else []
        for env_id, target, demo_id in plan:
            episode = self._episodes[env_id]
            succeeded = bool(episode.success)
            if target is None:
                self._count(succeeded, env_id)
                continue
            snapshot = episode.snapshot()
            self._writer.submit(
                EpisodeWriteJob(
                    file_handler=target,
                    episode=snapshot,
                    demo_id=demo_id,
                    episode_name=names.pop(0),
                    dataset_compression=self.cfg.dataset_compression,
                    env_args=env_args,
                    nbytes=_tree_nbytes(snapshot.data),
                    on_written=lambda succeeded=succeeded, env_id=env_id: self._count(succeeded, env_id),
                )
            )
            env_args = []
        if env_args:
            self._writer.submit(EpisodeWriteJob(file_handler=env_args[0][0], episode=None, env_args=env_args))
        # Reset the episode buffer for the given environment after export
        self._store.release(env_ids)
        for env_id in env_ids:
            self._episodes[env_id] = self._new_episode(env_id)

    def _count(self, succeeded: bool, env_id: int) -> None:
        """Count an exported episode (on the writer's thread once it is written)."""
        counts = self._exported_successful_episode_count if succeeded else self._exported_failed_episode_count
        with self._counts_lock:
            counts[env_id] = counts.get(env_id, 0) + 1

    def _target_dataset_file_handler(self, succeeded: bool) -> DatasetFileHandlerBase | None:
        mode = self.cfg.dataset_export_mode
        if mode == DatasetExportMode.EXPORT_ALL or (mode == DatasetExportMode.EXPORT_SUCCEEDED_ONLY and succeeded):
            return self._dataset_file_handler
        if mode == DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES:
            return self._dataset_file_handler if succeeded else self._failed_episode_dataset_file_handler
        return None

    def _env_args_updates(self) -> list[tuple[DatasetFileHandlerBase, dict]]:
        """The episode metadata to merge into each file before this export's episodes, skipping files that already
        hold the same metadata."""
        ep_meta = self.get_ep_meta()
        updates = []
        for file_handler in self._file_handlers():
            if self._sent_env_args.get(id(file_handler)) != ep_meta:
                self._sent_env_args[id(file_handler)] = ep_meta
                updates.append((file_handler, ep_meta))
        return updates


def _check_settings(cfg: RecorderManagerBaseCfg) -> DatasetExportMode:
    """Check the settings of a recorder configuration, so that a bad one fails when the recorder is built.

    Returns:
        The export mode as a :class:`DatasetExportMode` (it may be given as its name or value, as from a YAML file).

    Raises:
        TypeError: If a setting has the wrong type.
        ValueError: If a setting is out of range.
    """
    for name in ("export_in_record_pre_reset", "export_in_close", "dataset_compression", "async_write"):
        _check_type(cfg, name, (bool, np.bool_), "True or False")
    _check_type(cfg, "early_cpu_offload", (bool, np.bool_), "True or False")
    for name in ("async_queue_size", "async_queue_max_bytes"):
        value = getattr(cfg, name)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"RecorderManagerBaseCfg.{name} must be a positive integer, got {value!r}.")
    _check_type(cfg, "dataset_export_dir_path", (str, os.PathLike), "a path")
    if not isinstance(cfg.dataset_filename, str) or not cfg.dataset_filename:
        raise ValueError(f"RecorderManagerBaseCfg.dataset_filename must be a file name, got {cfg.dataset_filename!r}.")
    if not callable(cfg.dataset_file_handler_class_type):
        raise TypeError(
            "RecorderManagerBaseCfg.dataset_file_handler_class_type must be a dataset file handler class, got"
            f" {cfg.dataset_file_handler_class_type!r}."
        )
    threads = cfg.dataset_compression_threads
    check_compression(cfg.dataset_compression_codec, cfg.dataset_compression_level, 1 if threads is None else threads)
    mode = cfg.dataset_export_mode
    if isinstance(mode, str) and mode in DatasetExportMode.__members__:
        return DatasetExportMode[mode]
    if (
        not isinstance(mode, (bool, np.bool_))
        and isinstance(mode, (int, np.integer))
        and mode in set(DatasetExportMode)
    ):
        return DatasetExportMode(int(mode))
    raise ValueError(
        f"RecorderManagerBaseCfg.dataset_export_mode must be a DatasetExportMode (or its name or value), got {mode!r};"
        f" expected one of {', '.join(f'{m.name} ({m.value})' for m in DatasetExportMode)}."
    )


def _check_type(cfg: RecorderManagerBaseCfg, name: str, types: tuple[type, ...], expected: str) -> None:
    value = getattr(cfg, name)
    if not isinstance(value, types):
        raise TypeError(f"RecorderManagerBaseCfg.{name} must be {expected}, got {value!r} ({type(value).__name__}).")


def _reserve_names(items: list[tuple[DatasetFileHandlerBase, int | None]]) -> list[str | None]:
    """Reserve the demo name of each ``(file handler, demo id)`` in its file, all or none.

    Raises:
        ValueError: If a name is taken; no name stays reserved then.
    """
    by_handler: dict[int, tuple[DatasetFileHandlerBase, list[int]]] = {}
    for index, (handler, _) in enumerate(items):
        by_handler.setdefault(id(handler), (handler, []))[1].append(index)
    names: list[str | None] = [None] * len(items)
    reserved = []
    try:
        for handler, indices in by_handler.values():
            demo_ids = [items[index][1] for index in indices]
            # a handler written against Isaac Lab's base class has no reservations: its episodes keep export order
            reserve = getattr(handler, "reserve_episode_names", None)
            if reserve is None:
                continue
            for index, name in zip(indices, reserve(demo_ids)):
                names[index] = name
            reserved.append((handler, demo_ids))
    except ValueError:
        for handler, demo_ids in reserved:
            handler.release_episode_names(demo_ids)
        raise
    return names


def _flatten(key: str, value: Any) -> Iterable[tuple[str, Any]]:
    """Yield ``(key/sub_key, leaf)`` for every leaf of a (nested) dict value, warp arrays as torch tensors."""
    if isinstance(value, dict):
        for sub_key, sub_value in value.items():
            yield from _flatten(f"{key}/{sub_key}", sub_value)
    elif isinstance(value, wp.array):
        yield key, wp.to_torch(value)
    else:
        yield key, value


def _tree_nbytes(node: dict) -> int:
    """The memory the tensors of a nested dict hold (data and bookkeeping)."""
    return sum(
        _tree_nbytes(value) if isinstance(value, dict) else value.nbytes + _TENSOR_OVERHEAD_BYTES
        for value in node.values()
    )


def _resolve_env_ids(env_ids: Any, num_envs: int) -> np.ndarray:
    """Environment ids as an int64 array, from every form the public methods accept.

    Accepted: None (all), a slice, an int, a sequence (list, tuple, range) of ints, an integer tensor (any device)
    or numpy array, and a boolean mask (tensor, array or list) with one entry per environment.

    Raises:
        TypeError: If the ids are of another type (floats, strings, ...).
        ValueError: If a mask has the wrong length, or an id repeats.
        IndexError: If an id is outside ``[0, num_envs)``.
    """
    if env_ids is None:
        return np.arange(num_envs, dtype=np.int64)
    if isinstance(env_ids, slice):
        return np.arange(num_envs, dtype=np.int64)[env_ids]
    if isinstance(env_ids, torch.Tensor):
        env_ids = env_ids.detach().cpu().numpy()
    if isinstance(env_ids, (bool, np.bool_)):
        raise TypeError(f"env_ids must be environment indices or a boolean mask, got the bool {env_ids}.")
    if isinstance(env_ids, (int, np.integer)):
        ids = np.array([env_ids], dtype=np.int64)
    elif isinstance(env_ids, np.ndarray):
        ids = _array_to_ids(env_ids, num_envs)
    elif isinstance(env_ids, Iterable) and not isinstance(env_ids, (str, bytes, dict)):
        items = [_scalar(item) for item in env_ids]
        if items and all(isinstance(item, (bool, np.bool_)) for item in items):
            ids = _array_to_ids(np.asarray(items, dtype=bool), num_envs)
        else:
            bad = [
                item for item in items if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer))
            ]
            if bad:
                raise TypeError(f"env_ids must be integers, got {bad[0]!r} ({type(bad[0]).__name__}) in {items}.")
            ids = np.asarray(items, dtype=np.int64)
    else:
        raise TypeError(
            "env_ids must be None, a slice, an int, a sequence of ints, an integer tensor or array, or a boolean"
            f" mask; got {type(env_ids).__name__}."
        )
    outside = ids[(ids < 0) | (ids >= num_envs)]
    if len(outside):
        raise IndexError(f"Environment id {outside[0]} is out of range for {num_envs} environments.")
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"env_ids must not repeat an environment, got {ids.tolist()}.")
    return ids


def _array_to_ids(array: np.ndarray, num_envs: int) -> np.ndarray:
    """The ids of an integer array, or of the True entries of a boolean mask with one entry per environment."""
    if array.dtype == np.bool_:
        if array.shape != (num_envs,):
            raise ValueError(
                f"A boolean env_ids mask must have one entry per environment ({num_envs}), got shape {array.shape}."
            )
        return np.flatnonzero(array)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"env_ids must hold integers or booleans, got dtype {array.dtype}.")
    return array.reshape(-1).astype(np.int64)


def _scalar(item: Any) -> Any:
    """A one-element tensor or array as a Python scalar; anything else as is."""
    if isinstance(item, torch.Tensor):
        item = item.detach().cpu().numpy()
    if isinstance(item, np.ndarray) and item.size == 1:
        return item.item()
    return item


def _resolve_demo_ids(demo_ids: Any, num_env_ids: int) -> list[int] | None:
    """Demo ids as a list of ints (tensors and arrays converted as ``tolist()`` does), checked against the env ids.

    Raises:
        ValueError: If an id is not a non-negative integer, the count differs from the env ids', or an id repeats.
    """
    if demo_ids is None:
        return None
    if isinstance(demo_ids, (torch.Tensor, np.ndarray)):
        demo_ids = demo_ids.tolist()
    if isinstance(demo_ids, (str, bytes)) or not isinstance(demo_ids, Iterable):
        raise ValueError(f"demo_ids must be a sequence of non-negative integers, got {demo_ids!r}.")
    demo_ids = list(demo_ids)
    bad = [
        demo_id
        for demo_id in demo_ids
        if isinstance(demo_id, (bool, np.bool_)) or not isinstance(demo_id, (int, np.integer)) or demo_id < 0
    ]
    if bad:
        raise ValueError(f"demo_ids must be non-negative integers (demos are named demo_<id>), got {bad[0]!r}.")
    demo_ids = [int(demo_id) for demo_id in demo_ids]
    if len(demo_ids) != num_env_ids:
        raise ValueError(f"Length of demo_ids ({len(demo_ids)}) must match length of env_ids ({num_env_ids})")
    # Check for duplicate demo_ids
    if len(set(demo_ids)) != len(demo_ids):
        duplicates = sorted({x for i, x in enumerate(demo_ids) if demo_ids.index(x) != i})
        raise ValueError(f"demo_ids must be unique. Found duplicates: {duplicates}")
    return demo_ids


def _close_writer_and_files(writer: EpisodeWriter, file_handlers: list[DatasetFileHandlerBase]) -> None:
    """Drain and stop the writer, then close every file even if one fails; raise what was lost.

    Raises:
        EpisodeWriteError: The writer's unreported failures; or, if a file failed to close, an error chained to that
            failure, with the number of episodes not written.
    """
    writer_error = close_error = None
    try:
        writer.close()
    except EpisodeWriteError as error:
        writer_error = error
    for file_handler in file_handlers:
        path = getattr(file_handler, "file_path", None) or type(file_handler).__name__
        try:
            file_handler.close()
        except Exception as error:  # noqa: BLE001 - every file is closed; the first failure is raised below
            if close_error is None:
                close_error = (path, error)
    if writer_error is not None:
        raise writer_error
    if close_error is not None:
        path, error = close_error
        not_written = writer.statistics.episodes_failed
        raise EpisodeWriteError(
            f"Closing the dataset file '{path}' failed ({type(error).__name__}: {error}); {not_written} episode(s)"
            " were not written, and demos not flushed before may be missing."
        ) from error
