"""The recorder manager: records episodes through recorder terms and exports them to dataset files."""

from __future__ import annotations

import dataclasses
import enum
import os
import time
import weakref
from collections.abc import Sequence
from typing import Any

import torch

from isaaclab.utils import configclass
from isaaclab.utils.datasets import (
    DatasetFileHandlerBase,
    EpisodeData,
    EpisodeWriteJob,
    EpisodeWriter,
    HDF5DatasetFileHandler,
    WriterStatistics,
)

from .manager_base import ManagerBase, ManagerTermBase, resolve_env_ids
from .manager_term_cfg import RecorderTermCfg

EnvIds = Sequence[int] | slice | torch.Tensor | None
RecordedValue = torch.Tensor | dict | None


class DatasetExportMode(enum.IntEnum):
    """Which episodes are exported, and to which file."""

    EXPORT_NONE = 0
    """Export no episode."""
    EXPORT_ALL = 1
    """Export every episode to one file."""
    EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES = 2
    """Export succeeded episodes to the dataset file and failed ones to ``<dataset_filename>_failed``."""
    EXPORT_SUCCEEDED_ONLY = 3
    """Export only succeeded episodes."""


@configclass
class RecorderManagerBaseCfg:
    """Base configuration of the recorder manager. Every other attribute of a subclass is a recorder term config."""

    dataset_file_handler_class_type: type = HDF5DatasetFileHandler
    """The dataset file handler class."""

    dataset_export_dir_path: str = "/tmp/isaaclab/logs"
    """The folder of the dataset file(s)."""

    dataset_filename: str = "dataset"
    """The dataset file name (the handler adds its extension)."""

    dataset_export_mode: DatasetExportMode = DatasetExportMode.EXPORT_ALL
    """Which episodes are exported, and where."""

    export_in_record_pre_reset: bool = True
    """Export episodes in :meth:`RecorderManager.record_pre_reset`."""

    export_in_close: bool = False
    """Export the episodes in progress in :meth:`RecorderManager.close`."""

    dataset_compression: bool = True
    """Compress the datasets of every episode (gzip)."""

    async_write: bool = False
    """Export on one background writer thread, so that the caller never waits on file I/O while the queue has room."""

    early_cpu_offload: bool = False
    """Store every recorded tensor as an owned CPU copy when it is recorded (device memory stays flat)."""

    async_queue_size: int = 16
    """With :attr:`async_write`: the most episodes waiting to be written; exporting blocks while it is reached."""

    async_queue_max_bytes: int = 1024**3
    """With :attr:`async_write`: the most tensor bytes waiting to be written; exporting blocks while it is reached."""


_SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(RecorderManagerBaseCfg))
"""Fields of :class:`RecorderManagerBaseCfg`: settings, never recorder terms."""


class RecorderTerm(ManagerTermBase):
    """Base class of recorder terms.

    Each callback returns ``(key, value)`` to record, or ``(None, None)``. The value is a tensor with one row per
    environment (for the reset callbacks: one row per id in ``env_ids``), or a nested dictionary of such tensors.
    """

    def __init__(self, cfg: RecorderTermCfg, env: Any) -> None:
        """Initialize the recorder term.

        Args:
            cfg: The configuration of the term.
            env: The environment instance.
        """
        super().__init__(cfg, env)

    def record_pre_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, RecordedValue]:
        """Record data before the given environments reset."""
        return None, None

    def record_post_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, RecordedValue]:
        """Record data after the given environments reset."""
        return None, None

    def record_pre_step(self) -> tuple[str | None, RecordedValue]:
        """Record data at the start of a step, after the action is processed."""
        return None, None

    def record_post_step(self) -> tuple[str | None, RecordedValue]:
        """Record data at the end of a step."""
        return None, None

    def record_post_physics_decimation_step(self) -> tuple[str | None, RecordedValue]:
        """Record data after each physics substep."""
        return None, None

    def close(self, file_path: str) -> None:
        """Finalize the term when the manager closes.

        Args:
            file_path: The path of the dataset file.
        """


class RecorderManager(ManagerBase):
    """Records episodes of every environment through recorder terms and exports them to dataset files.

    With ``cfg.async_write`` the export hands an owned snapshot of each episode to a background writer thread (see
    :class:`~isaaclab.utils.datasets.EpisodeWriter`); otherwise the same writer runs inline. Either way the demo names,
    the files and their contents are the same.
    """

    def __init__(self, cfg: object, env: Any) -> None:
        """Initialize the recorder manager and create the dataset file(s).

        Args:
            cfg: A :class:`RecorderManagerBaseCfg` (subclass) with recorder term fields; None or empty makes the
                manager inert.
            env: The environment (needs ``num_envs``, ``device``, ``cfg.sim.dt``, ``cfg.sim.render_interval``,
                ``cfg.decimation``, ``cfg.scene.num_envs``; optional ``cfg.env_name`` and ``termination_manager``).

        Raises:
            TypeError: If a term config or the config itself has the wrong type.
        """
        self._term_names: list[str] = list()
        self._terms: dict[str, RecorderTerm] = dict()
        self._closed = False
        if not cfg:
            return
        super().__init__(cfg, env)
        if not self._terms:
            return
        if not isinstance(cfg, RecorderManagerBaseCfg):
            raise TypeError("Configuration for the recorder manager is not of type RecorderManagerBaseCfg.")

        self._episodes: dict[int, EpisodeData] = {
            env_id: self._create_episode(env_id) for env_id in range(env.num_envs)
        }
        self._exported_successful_episode_count: dict[int, int] = dict()
        self._exported_failed_episode_count: dict[int, int] = dict()
        self._sent_env_args: dict[int, dict] = dict()

        env_name = getattr(env.cfg, "env_name", None)
        self._dataset_file_handler: DatasetFileHandlerBase | None = None
        self._failed_episode_dataset_file_handler: DatasetFileHandlerBase | None = None
        if self.cfg.dataset_export_mode != DatasetExportMode.EXPORT_NONE:
            self._dataset_file_handler = self._create_file_handler(self.cfg.dataset_filename, env_name)
        if self.cfg.dataset_export_mode == DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES:
            self._failed_episode_dataset_file_handler = self._create_file_handler(
                f"{self.cfg.dataset_filename}_failed", env_name
            )
        self._writer = EpisodeWriter(
            asynchronous=self.cfg.async_write,
            max_queue_episodes=self.cfg.async_queue_size,
            max_queue_bytes=self.cfg.async_queue_max_bytes,
        )
        # closes the writer and the files if the manager is collected or the program ends without close()
        self._finalizer = weakref.finalize(self, _close_resources, self._writer, self._file_handlers())

    def __str__(self) -> str:
        """A table of the active recorder terms."""
        msg = f"<RecorderManager> contains {len(self._term_names)} active terms.\n"
        title = "Active Recorder Terms"
        width = max([len(name) for name in self._term_names] + [len(title) - 8])
        rule = f"+{'-' * 7}+{'-' * (width + 2)}+"
        top = f"+{'-' * (width + 10)}+"
        lines = [top, f"| {title.center(width + 8)} |", rule, f"| Index | {'Name'.ljust(width)} |", rule]
        lines += [f"| {index:>5} | {name.ljust(width)} |" for index, name in enumerate(self._term_names)]
        lines.append(rule)
        return msg + "\n".join(lines) + "\n"

    """
    Properties.
    """

    @property
    def active_terms(self) -> list[str]:
        """Names of the active recorder terms."""
        return self._term_names

    @property
    def exported_successful_episode_count(self) -> int:
        """Number of succeeded episodes exported."""
        if not self._terms:
            return 0
        return sum(self._exported_successful_episode_count.values())

    @property
    def exported_failed_episode_count(self) -> int:
        """Number of failed episodes exported."""
        if not self._terms:
            return 0
        return sum(self._exported_failed_episode_count.values())

    @property
    def writer_statistics(self) -> WriterStatistics:
        """Counters of the episode writer (queue depth and bytes, written episodes, seconds writing and blocked)."""
        if not self._terms:
            return WriterStatistics()
        return self._writer.statistics

    """
    Operations.
    """

    def reset(self, env_ids: EnvIds = None) -> dict[str, torch.Tensor]:
        """Reset the terms and start fresh episodes (unexported data is discarded) for the given environments."""
        if not self._terms:
            return {}
        env_ids = resolve_env_ids(env_ids, self._env.num_envs)
        for term in self._terms.values():
            term.reset(env_ids=env_ids)
        for env_id in env_ids:
            self._episodes[env_id] = self._create_episode(env_id)
        return {}

    def get_episode(self, env_id: int) -> EpisodeData:
        """The episode being recorded in the given environment (a new empty one if there is none)."""
        if not self._terms:
            return EpisodeData()
        episode = self._episodes.get(env_id)
        return episode if episode is not None else self._create_episode(env_id)

    def add_to_episodes(self, key: str, value: RecordedValue, env_ids: EnvIds = None) -> None:
        """Append a batch of values, one row per environment id, to those environments' episodes.

        The batch is copied once (to the CPU with ``early_cpu_offload``) and each episode keeps its row of the copy.

        Args:
            key: The key, nested with ``/``.
            value: A tensor with one row per id, or a nested dictionary of such tensors; None records nothing.
            env_ids: The environments (None: all).

        Raises:
            TypeError: If a value is neither a tensor nor a dictionary.
            ValueError: If a tensor does not have one row per environment id.
        """
        if not self._terms or value is None:
            return
        env_ids = resolve_env_ids(env_ids, self._env.num_envs)
        self._add_batch(key, value, env_ids)

    def set_success_to_episodes(self, env_ids: EnvIds, success_values: torch.Tensor) -> None:
        """Set the success flag of the given environments' episodes (one value per id)."""
        if not self._terms:
            return
        env_ids = resolve_env_ids(env_ids, self._env.num_envs)
        for value_index, env_id in enumerate(env_ids):
            self._episode(env_id).success = bool(success_values[value_index].item())

    def record_pre_step(self) -> None:
        """Record the pre-step terms for all environments."""
        for term in self._terms.values():
            self.add_to_episodes(*term.record_pre_step())

    def record_post_step(self) -> None:
        """Record the post-step terms for all environments."""
        for term in self._terms.values():
            self.add_to_episodes(*term.record_post_step())

    def record_post_physics_decimation_step(self) -> None:
        """Record the post-physics-substep terms for all environments."""
        for term in self._terms.values():
            self.add_to_episodes(*term.record_post_physics_decimation_step())

    def record_pre_reset(self, env_ids: EnvIds, force_export_or_skip: bool | None = None) -> None:
        """Record the pre-reset terms, mark success from the env's "success" termination term, and maybe export.

        Args:
            env_ids: The environments about to reset (None: all).
            force_export_or_skip: True exports, False skips; None exports if ``cfg.export_in_record_pre_reset``.
        """
        if not self._terms:
            return
        env_ids = resolve_env_ids(env_ids, self._env.num_envs)
        for term in self._terms.values():
            key, value = term.record_pre_reset(env_ids)
            self.add_to_episodes(key, value, env_ids)

        success_results = torch.zeros(len(env_ids), dtype=torch.bool, device=self._env.device)
        termination_manager = getattr(self._env, "termination_manager", None)
        if termination_manager is not None and "success" in termination_manager.active_terms:
            success_results |= termination_manager.get_term("success")[env_ids]
        self.set_success_to_episodes(env_ids, success_results)

        if force_export_or_skip or (force_export_or_skip is None and self.cfg.export_in_record_pre_reset):
            self.export_episodes(env_ids)

    def record_post_reset(self, env_ids: EnvIds) -> None:
        """Record the post-reset terms for the given environments."""
        if not self._terms:
            return
        env_ids = resolve_env_ids(env_ids, self._env.num_envs)
        for term in self._terms.values():
            key, value = term.record_post_reset(env_ids)
            self.add_to_episodes(key, value, env_ids)

    def get_ep_meta(self) -> dict:
        """Episode metadata merged into the dataset's ``env_args``: ``cfg.get_ep_meta()`` if the env config has it,
        else the simulation arguments."""
        if hasattr(self._env.cfg, "get_ep_meta"):
            return self._env.cfg.get_ep_meta()
        env_cfg = self._env.cfg
        return {
            "sim_args": {
                "dt": env_cfg.sim.dt,
                "decimation": env_cfg.decimation,
                "render_interval": env_cfg.sim.render_interval,
                "num_envs": env_cfg.scene.num_envs,
            }
        }

    def export_episodes(self, env_ids: EnvIds = None, demo_ids: Sequence[int] | None = None) -> None:
        """Export the non-empty episodes of the given environments and start fresh ones.

        On the caller's thread this only picks the file (by export mode and success), reserves the demo name, counts
        the episode, and hands an owned snapshot to the writer; in asynchronous mode the writing happens on the
        writer thread, and this call blocks only while the writer's queue is full.

        Args:
            env_ids: The environments (None: all).
            demo_ids: Custom demo indices, one per environment id and unique; demos are named ``demo_<id>``.

        Raises:
            ValueError: If ``demo_ids`` has the wrong length or repeats an id, or a demo of that name exists.
            EpisodeWriteError: If the background writer failed earlier (the episodes stay recorded).
        """
        if not self._terms:
            return
        start = time.perf_counter()
        env_ids = resolve_env_ids(env_ids, self._env.num_envs)
        if demo_ids is not None:
            demo_ids = _check_demo_ids(demo_ids, len(env_ids))
        self._writer.raise_if_failed()
        try:
            self._export(env_ids, demo_ids)
        finally:
            self._writer.add_export_seconds(time.perf_counter() - start)

    def flush(self) -> None:
        """Wait until every exported episode is written, and flush the files.

        Raises:
            EpisodeWriteError: If the background writer failed.
        """
        if not self._terms or self._closed:
            return
        self._writer.flush()
        for file_handler in self._file_handlers():
            file_handler.flush()

    def close(self) -> None:
        """Export the episodes in progress if ``cfg.export_in_close``, write everything queued, close the files and
        the terms. Idempotent.

        Raises:
            EpisodeWriteError: If the background writer failed (after the files are closed).
        """
        if not self._terms or self._closed:
            return
        self._closed = True
        try:
            if self.cfg.export_in_close:
                self.export_episodes()
        finally:
            try:
                self._finalizer()
            finally:
                file_path = os.path.join(self.cfg.dataset_export_dir_path, self.cfg.dataset_filename)
                for term in self._terms.values():
                    term.close(file_path)

    """
    Helpers.
    """

    def _export(self, env_ids: list[int], demo_ids: list[int] | None) -> None:
        """Hand each non-empty episode to the writer (or count it) and start a fresh one."""
        for index, env_id in enumerate(env_ids):
            episode = self._episodes.get(env_id)
            if episode is not None and not episode.is_empty():
                succeeded = bool(episode.success)
                file_handler = self._target_file_handler(succeeded)
                if file_handler is not None:
                    demo_id = demo_ids[index] if demo_ids is not None else None
                    self._writer.submit(
                        EpisodeWriteJob(
                            file_handler=file_handler,
                            episode=episode.snapshot(),
                            episode_name=file_handler.reserve_episode_name(demo_id),
                            demo_id=demo_id,
                            dataset_compression=self.cfg.dataset_compression,
                            env_args=self._env_args_update(file_handler),
                        )
                    )
                counts = self._exported_successful_episode_count if succeeded else self._exported_failed_episode_count
                counts[env_id] = counts.get(env_id, 0) + 1
            self._episodes[env_id] = self._create_episode(env_id)

    def _prepare_terms(self) -> None:
        """Build the recorder terms from every config attribute that is not a setting."""
        cfg_items = self.cfg.items() if isinstance(self.cfg, dict) else self.cfg.__dict__.items()
        for term_name, term_cfg in cfg_items:
            if term_name in _SETTING_NAMES or term_cfg is None:
                continue
            if not isinstance(term_cfg, RecorderTermCfg):
                raise TypeError(
                    f"Configuration for the term '{term_name}' is not of type RecorderTermCfg."
                    f" Received: '{type(term_cfg)}'."
                )
            term = term_cfg.class_type(term_cfg, self._env)
            if not isinstance(term, RecorderTerm):
                raise TypeError(f"Returned object for the term '{term_name}' is not of type RecorderTerm.")
            self._term_names.append(term_name)
            self._terms[term_name] = term

    def _create_episode(self, env_id: int) -> EpisodeData:
        """The one place episodes are created, so that every episode gets the offload flag."""
        episode = EpisodeData(early_cpu_offload=self.cfg.early_cpu_offload)
        episode.env_id = env_id
        return episode

    def _episode(self, env_id: int) -> EpisodeData:
        episode = self._episodes.get(env_id)
        if episode is None:
            episode = self._episodes[env_id] = self._create_episode(env_id)
        return episode

    def _add_batch(self, key: str, value: RecordedValue, env_ids: list[int]) -> None:
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                self._add_batch(f"{key}/{sub_key}", sub_value, env_ids)
            return
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"Recorded value for key '{key}' must be a torch.Tensor or a dict, got {type(value)}.")
        if value.dim() == 0 or value.shape[0] != len(env_ids):
            raise ValueError(
                f"Recorded value for key '{key}' must have one row per environment id: expected leading dimension"
                f" {len(env_ids)}, got shape {tuple(value.shape)}."
            )
        # one copy for the whole batch; nothing writes to it afterwards, so each episode may keep its row
        batch = value.to("cpu", copy=True) if self.cfg.early_cpu_offload else value.clone()
        for row, env_id in zip(batch.unbind(0), env_ids):
            self._episode(env_id).append_owned(key, row)

    def _create_file_handler(self, filename: str, env_name: str | None) -> DatasetFileHandlerBase:
        file_handler = self.cfg.dataset_file_handler_class_type()
        file_handler.create(os.path.join(self.cfg.dataset_export_dir_path, filename), env_name=env_name)
        return file_handler

    def _file_handlers(self) -> list[DatasetFileHandlerBase]:
        handlers = [self._dataset_file_handler, self._failed_episode_dataset_file_handler]
        return [handler for handler in handlers if handler is not None]

    def _target_file_handler(self, succeeded: bool) -> DatasetFileHandlerBase | None:
        mode = self.cfg.dataset_export_mode
        if mode == DatasetExportMode.EXPORT_ALL or (mode == DatasetExportMode.EXPORT_SUCCEEDED_ONLY and succeeded):
            return self._dataset_file_handler
        if mode == DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES:
            return self._dataset_file_handler if succeeded else self._failed_episode_dataset_file_handler
        return None

    def _env_args_update(self, file_handler: DatasetFileHandlerBase) -> dict | None:
        """The episode metadata to merge into the file, or None if the file already has it."""
        ep_meta = self.get_ep_meta()
        if self._sent_env_args.get(id(file_handler)) == ep_meta:
            return None
        self._sent_env_args[id(file_handler)] = ep_meta
        return ep_meta


def _check_demo_ids(demo_ids: Sequence[int], num_env_ids: int) -> list[int]:
    demo_ids = list(demo_ids)
    if len(demo_ids) != num_env_ids:
        raise ValueError(f"demo_ids has {len(demo_ids)} entries but {num_env_ids} environment ids were given.")
    if len(set(demo_ids)) != len(demo_ids):
        raise ValueError(f"demo_ids must be unique, got {demo_ids}.")
    return demo_ids


def _close_resources(writer: EpisodeWriter, file_handlers: list[DatasetFileHandlerBase]) -> None:
    """Drain and stop the writer, then close the files, even if the writer failed."""
    try:
        writer.close()
    finally:
        for file_handler in file_handlers:
            file_handler.close()
