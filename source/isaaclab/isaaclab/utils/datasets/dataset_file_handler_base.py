"""The interface of dataset file handlers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from .episode_data import EpisodeData


class DatasetFileHandlerBase(ABC):
    """Abstract dataset file handler: creates or opens a dataset file, writes and loads episodes."""

    @abstractmethod
    def create(self, file_path: str, env_name: str | None = None) -> None:
        """Create a new dataset file."""

    @abstractmethod
    def open(self, file_path: str, mode: str = "r") -> None:
        """Open an existing dataset file."""

    @abstractmethod
    def get_env_name(self) -> str | None:
        """The name of the environment the dataset was recorded in."""

    @abstractmethod
    def get_episode_names(self) -> Iterable[str]:
        """The names of the episodes in the file."""

    @abstractmethod
    def get_num_episodes(self) -> int:
        """The number of episodes in the file."""

    @abstractmethod
    def add_env_args(self, env_args: dict[str, Any]) -> None:
        """Merge environment arguments into the file's metadata."""

    @abstractmethod
    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True) -> None:
        """Write an episode to the file."""

    @abstractmethod
    def load_episode(self, episode_name: str, device: str) -> EpisodeData | None:
        """Load an episode from the file."""

    @abstractmethod
    def flush(self) -> None:
        """Flush the file to disk."""

    @abstractmethod
    def close(self) -> None:
        """Close the file."""

    def reserve_episode_name(self, demo_id: int | None = None) -> str | None:
        """Reserve the name of the next episode before it is written (for asynchronous export).

        Handlers that name episodes only when writing them return None; they then receive episodes through
        :meth:`write_episode` in the order they were exported, which gives the same names.

        Args:
            demo_id: A custom demo index, or None for the running count.

        Returns:
            The reserved name, or None.
        """
        return None

    def write_reserved_episode(self, episode_name: str, episode: EpisodeData, dataset_compression: bool = True) -> None:
        """Write an episode under a name returned by :meth:`reserve_episode_name`."""
        raise NotImplementedError(f"{type(self).__name__} does not reserve episode names.")
