# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

# Copyright (c) 2024-2025, The Isaac Lab Project Developers.
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

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

    def reserve_episode_names(self, demo_ids: Sequence[int | None]) -> list[str | None]:
        """Reserve the names of episodes that :meth:`write_episode` writes later (used by asynchronous export).

        A handler that reserves names checks them when the episodes are exported, all or none, so that a name clash
        is reported to the exporting caller and not later by a background writer. By default no name is reserved:
        episodes are written in export order, which gives them the same names.

        Args:
            demo_ids: For each episode, a custom demo index, or None for the next name of the running count.

        Returns:
            The reserved names (None where none is reserved).
        """
        return [None] * len(demo_ids)

    def release_episode_names(self, demo_ids: Sequence[int | None]) -> None:
        """Give back names reserved with :meth:`reserve_episode_names` for episodes that will not be written.

        Args:
            demo_ids: The demo ids the names were reserved for.
        """
