"""The pool of annotated source demos, each split into subtask segments per end effector."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

from .datagen_info import DatagenInfo

__all__ = ["DataGenInfoPool", "find_first_rising_edge", "parse_subtask_boundaries"]


def find_first_rising_edge(signal: torch.Tensor) -> int | None:
    """Index of the first step where a 0/1 signal goes from 0 to 1 (a signal that starts at 1 rises at step 0).

    Args:
        signal: The signal, shape (T,) or (T, 1).

    Returns:
        The step index, or ``None`` if the signal never rises.
    """
    values = signal.reshape(-1) > 0.5
    previous = torch.cat((values.new_zeros(1), values[:-1]))
    rising = torch.nonzero(values & ~previous)
    return int(rising[0, 0]) if len(rising) > 0 else None


def parse_subtask_boundaries(
    signals: dict[str, torch.Tensor], signal_names: Sequence[str | None], num_steps: int
) -> list[tuple[int, int]]:
    """Split an episode into consecutive subtask segments ``[start, end)``.

    A subtask ends one step after the first 0->1 edge of its termination signal (the step where the signal first
    reads 1 belongs to the subtask). The last subtask, and any subtask without a signal name, ends at the episode end.

    Args:
        signals: Termination signals of the episode, keyed by name, each (T,).
        signal_names: Termination signal name of each subtask, in order.
        num_steps: Number of steps of the episode.

    Returns:
        One ``(start, end)`` pair per subtask.

    Raises:
        ValueError: If a signal is missing or never rises, or if the segments would not strictly advance.
    """
    boundaries = []
    start = 0
    for index, name in enumerate(signal_names):
        if name is None or index == len(signal_names) - 1:
            end = num_steps
        else:
            if name not in signals:
                raise ValueError(f"Subtask term signal '{name}' is not in the demo (available: {sorted(signals)}).")
            edge = find_first_rising_edge(signals[name])
            if edge is None:
                raise ValueError(f"Subtask term signal '{name}' never goes from 0 to 1 in the demo.")
            end = edge + 1
        if end <= start:
            raise ValueError(
                f"Subtask {index} (signal '{name}') ends at step {end}, not after its start at step {start}: the"
                " subtask term signals must rise in subtask order."
            )
        boundaries.append((start, end))
        start = end
    return boundaries


class DataGenInfoPool:
    """Source demos for data generation, with the subtask segments of each demo per end effector."""

    def __init__(self, env: Any, env_cfg: Any, device: str | torch.device, asyncio_lock: asyncio.Lock | None = None):
        """Create an empty pool.

        Args:
            env: The Mimic environment (used to turn actions into gripper actions).
            env_cfg: The Mimic environment config (its ``subtask_configs`` define the segmentation).
            device: Device of the loaded tensors.
            asyncio_lock: Lock held while adding episodes from asyncio tasks.
        """
        self.env = env
        self.env_cfg = env_cfg
        self.device = device
        self._asyncio_lock = asyncio_lock
        self._datagen_infos: list[DatagenInfo] = []
        self._subtask_boundaries: dict[str, list[list[tuple[int, int]]]] = {
            name: [] for name in env_cfg.subtask_configs
        }
        self.subtask_term_signal_names = {
            name: [cfg.subtask_term_signal for cfg in configs] for name, configs in env_cfg.subtask_configs.items()
        }
        self.subtask_term_offset_ranges = {
            name: [tuple(cfg.subtask_term_offset_range) for cfg in configs]
            for name, configs in env_cfg.subtask_configs.items()
        }

    @property
    def datagen_infos(self) -> list[DatagenInfo]:
        """The source demos, in the order they were added."""
        return self._datagen_infos

    @property
    def subtask_boundaries(self) -> dict[str, list[list[tuple[int, int]]]]:
        """Per end effector, per demo, the ``(start, end)`` step range of each subtask."""
        return self._subtask_boundaries

    @property
    def asyncio_lock(self) -> asyncio.Lock | None:
        """The lock that guards additions from asyncio tasks, if any."""
        return self._asyncio_lock

    @property
    def num_datagen_infos(self) -> int:
        """Number of source demos in the pool."""
        return len(self._datagen_infos)

    async def add_episode(self, episode: EpisodeData) -> None:
        """Add an annotated episode, holding the asyncio lock if the pool has one."""
        if self._asyncio_lock is None:
            self._add_episode(episode)
            return
        async with self._asyncio_lock:
            self._add_episode(episode)

    def load_from_dataset_file(self, file_path: str, select_demo_keys: Iterable[str] | None = None) -> None:
        """Add the annotated demos of an HDF5 dataset file.

        Args:
            file_path: Path of the dataset file.
            select_demo_keys: Names of the demos to load (``None``: all).

        Raises:
            ValueError: If a demo lacks the ``obs/datagen_info`` annotations or cannot be segmented.
        """
        selected = None if select_demo_keys is None else set(select_demo_keys)
        handler = HDF5DatasetFileHandler()
        handler.open(file_path)
        try:
            for name in handler.get_episode_names():
                if selected is not None and name not in selected:
                    continue
                try:
                    self._add_episode(handler.load_episode(name, self.device))
                except ValueError as err:
                    raise ValueError(f"Demo '{name}' of '{file_path}': {err}") from err
        finally:
            handler.close()

    def _add_episode(self, episode: EpisodeData) -> None:
        """Add an annotated episode (a nested dict of stacked tensors) and segment it."""
        data = episode.data
        annotations = data.get("obs", {}).get("datagen_info")
        if annotations is None:
            raise ValueError("the episode lacks the 'obs/datagen_info' annotations (run annotate_demos first).")
        actions = data["actions"]
        info = DatagenInfo(
            eef_pose=dict(annotations["eef_pose"]),
            object_poses=dict(annotations["object_pose"]),
            subtask_term_signals=dict(annotations["subtask_term_signals"]),
            target_eef_pose=dict(annotations["target_eef_pose"]),
            gripper_action=self.env.actions_to_gripper_actions(actions),
            subtask_start_signals=dict(annotations.get("subtask_start_signals", {})),
        )
        num_steps = actions.shape[0]
        if info.num_steps != num_steps:
            raise ValueError(f"the datagen_info has {info.num_steps} steps but the episode has {num_steps} actions.")

        boundaries = {}
        for eef_name, signal_names in self.subtask_term_signal_names.items():
            eef_boundaries = parse_subtask_boundaries(info.subtask_term_signals, signal_names, num_steps)
            self._check_offsets_keep_subtasks_non_empty(eef_name, eef_boundaries)
            boundaries[eef_name] = eef_boundaries
        self._datagen_infos.append(info)
        for eef_name, eef_boundaries in boundaries.items():
            self._subtask_boundaries[eef_name].append(eef_boundaries)

    def _check_offsets_keep_subtasks_non_empty(self, eef_name: str, boundaries: list[tuple[int, int]]) -> None:
        """Check that no draw of the subtask end offsets can make a subtask empty."""
        offsets = self.subtask_term_offset_ranges[eef_name]
        for i in range(1, len(boundaries)):
            latest_previous_end = boundaries[i - 1][1] + offsets[i - 1][1]
            earliest_end = boundaries[i][1] + offsets[i][0]
            if latest_previous_end >= earliest_end:
                raise ValueError(
                    f"subtask {i} of '{eef_name}' can become empty: subtask {i - 1} may end at step"
                    f" {latest_previous_end} and subtask {i} at step {earliest_end}; narrow subtask_term_offset_range."
                )
