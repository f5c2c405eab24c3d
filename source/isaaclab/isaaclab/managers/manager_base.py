"""Base classes of managers and their terms."""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from .manager_term_cfg import ManagerTermBaseCfg


class ManagerTermBase:
    """Base class of manager terms that keep state (built as ``Term(cfg, env)``)."""

    def __init__(self, cfg: ManagerTermBaseCfg, env: Any) -> None:
        """Initialize the term.

        Args:
            cfg: The configuration of the term.
            env: The environment instance.
        """
        self.cfg = cfg
        self._env = env

    @property
    def num_envs(self) -> int:
        """Number of environments."""
        return self._env.num_envs

    @property
    def device(self) -> str:
        """Device on which to perform computations."""
        return self._env.device

    @property
    def __name__(self) -> str:
        """The name of the term's class."""
        return type(self).__name__

    def reset(self, env_ids: Sequence[int] | None = None) -> None:
        """Reset the term for the given environments (nothing by default)."""

    def serialize(self) -> dict:
        """The term's configuration as a dictionary."""
        return {}


class ManagerBase(ABC):
    """Base class of managers: holds the config and the env, and prepares the terms."""

    def __init__(self, cfg: object, env: Any) -> None:
        """Initialize the manager and prepare its terms.

        Args:
            cfg: The configuration object (a configclass instance or a dictionary of term configs).
            env: The environment instance.
        """
        self.cfg = copy.deepcopy(cfg)
        self._env = env
        self._prepare_terms()

    @property
    def num_envs(self) -> int:
        """Number of environments."""
        return self._env.num_envs

    @property
    def device(self) -> str:
        """Device on which to perform computations."""
        return self._env.device

    @property
    @abstractmethod
    def active_terms(self) -> list[str] | dict[str, list[str]]:
        """Names of the active terms."""

    def reset(self, env_ids: Sequence[int] | None = None) -> dict[str, float]:
        """Reset the manager for the given environments; returns values to log."""
        return {}

    def find_terms(self, name_keys: str | Sequence[str]) -> list[str]:
        """Names of the active terms matching the given regular expressions.

        Args:
            name_keys: A regular expression or a list of them.
        """
        keys = [name_keys] if isinstance(name_keys, str) else list(name_keys)
        terms = self.active_terms
        names = terms if isinstance(terms, list) else [name for group in terms.values() for name in group]
        return [name for name in names if any(re.fullmatch(key, name) for key in keys)]

    def get_active_iterable_terms(self, env_idx: int) -> Sequence[tuple[str, Sequence[float]]]:
        """Per-term values of one environment for display (none by default)."""
        return []

    @abstractmethod
    def _prepare_terms(self) -> None:
        """Build the terms from the configuration."""
