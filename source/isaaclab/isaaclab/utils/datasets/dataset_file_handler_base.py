# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from abc import ABC, abstractmethod

from .episode_data import EpisodeData


class DatasetFileHandlerBase(ABC):
    """Abstract class for handling dataset files."""

    @abstractmethod
    def open(self, file_path: str, mode: str = "r"):
        """Open a file."""
        raise NotImplementedError

    @abstractmethod
    def create(self, file_path: str, env_name: str | None = None):
        """Create a new file."""
        raise NotImplementedError

    @abstractmethod
    def get_env_name(self) -> str | None:
        """Get the environment name."""
        raise NotImplementedError

    @abstractmethod
    def write_episode(self, episode: EpisodeData):
        """Write episode data to the file."""
        raise NotImplementedError

    @abstractmethod
    def flush(self):
        """Flush the file."""
        raise NotImplementedError

    @abstractmethod
    def close(self):
        """Close the file."""
        raise NotImplementedError

    @abstractmethod
    def load_episode(self, episode_name: str) -> EpisodeData | None:
        """Load episode data from the file."""
        raise NotImplementedError

    @abstractmethod
    def get_num_episodes(self) -> int:
        """Get number of episodes in the file."""
        raise NotImplementedError

    def reserve_episode_name(self, demo_id: int | None = None) -> str | None:
        """Reserve the name of an episode that :meth:`write_episode` will write later (for asynchronous export).

        A handler that reserves names checks, when the episode is exported, that the name is free, so that a name
        clash is reported to the caller at once and not later by a background writer. Handlers that do not reserve
        names return None; their episodes are written in export order, which gives the same names.

        Args:
            demo_id: A custom demo index, or None for the next name of the running count.

        Returns:
            The reserved name, or None.
        """
        return None
