"""The action manager: splits the env action among action terms that drive the scene."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import torch

from isaaclab.managers import ManagerBase, ManagerTermBase
from isaaclab.utils import MISSING, configclass


@configclass
class ActionTermCfg:
    """Configuration of an action term."""

    class_type: type = MISSING
    """The :class:`ActionTerm` subclass to build."""

    asset_name: str = "robot"
    """Name of the scene asset the term drives."""


class ActionTerm(ManagerTermBase):
    """One slice of the env action: turns it into commands for an asset.

    :meth:`process_actions` runs once per env step, :meth:`apply_actions` once per physics substep.
    """

    @property
    @abstractmethod
    def action_dim(self) -> int:
        """Number of action entries this term consumes."""

    @property
    @abstractmethod
    def raw_actions(self) -> torch.Tensor:
        """The last action slice given to the term, shape (num_envs, action_dim)."""

    @property
    @abstractmethod
    def processed_actions(self) -> torch.Tensor:
        """The commands derived from the last action, shape (num_envs, ...)."""

    @abstractmethod
    def process_actions(self, actions: torch.Tensor) -> None:
        """Take this term's action slice, shape (num_envs, action_dim)."""

    @abstractmethod
    def apply_actions(self) -> None:
        """Send the processed commands to the scene (every physics substep)."""


class ActionManager(ManagerBase):
    """Holds the action terms in config order and routes each column block of the action to its term."""

    def __init__(self, cfg: object, env: Any) -> None:
        """Build the terms and the action buffers.

        Args:
            cfg: A configclass whose attributes are :class:`ActionTermCfg` (None entries are skipped).
            env: The environment.
        """
        self._terms: dict[str, ActionTerm] = dict()
        super().__init__(cfg, env)
        self._action = torch.zeros(self.num_envs, self.total_action_dim, device=self.device)
        self._prev_action = torch.zeros_like(self._action)

    @property
    def active_terms(self) -> list[str]:
        """Names of the action terms, in action order."""
        return list(self._terms)

    @property
    def action_term_dim(self) -> list[int]:
        """Action dimension of each term, in action order."""
        return [term.action_dim for term in self._terms.values()]

    @property
    def total_action_dim(self) -> int:
        """Dimension of the env action."""
        return sum(self.action_term_dim)

    @property
    def action(self) -> torch.Tensor:
        """The action of the current step, shape (num_envs, total_action_dim)."""
        return self._action

    @property
    def prev_action(self) -> torch.Tensor:
        """The action of the previous step, shape (num_envs, total_action_dim)."""
        return self._prev_action

    def get_term(self, name: str) -> ActionTerm:
        """The action term of the given name."""
        return self._terms[name]

    def process_action(self, action: torch.Tensor) -> None:
        """Store the action of this step and hand each term its slice.

        Args:
            action: Shape (num_envs, total_action_dim).

        Raises:
            ValueError: If the action has the wrong shape.
        """
        expected = (self.num_envs, self.total_action_dim)
        if tuple(action.shape) != expected:
            raise ValueError(f"Invalid action shape, expected: {expected}, received: {tuple(action.shape)}.")
        self._prev_action[:] = self._action
        self._action[:] = action.to(self.device)
        start = 0
        for term in self._terms.values():
            term.process_actions(self._action[:, start : start + term.action_dim])
            start += term.action_dim

    def apply_action(self) -> None:
        """Let every term command the scene (called every physics substep)."""
        for term in self._terms.values():
            term.apply_actions()

    def reset(self, env_ids: Sequence[int] | torch.Tensor | None = None) -> dict[str, float]:
        """Zero the current and previous actions of the given environments and reset the terms."""
        ids = slice(None) if env_ids is None else env_ids
        self._prev_action[ids] = 0.0
        self._action[ids] = 0.0
        for term in self._terms.values():
            term.reset(env_ids=env_ids)
        return {}

    def _prepare_terms(self) -> None:
        for name, term_cfg in self.cfg.__dict__.items():
            if term_cfg is None:
                continue
            if not isinstance(term_cfg, ActionTermCfg):
                raise TypeError(f"Configuration for the term '{name}' is not of type ActionTermCfg: {type(term_cfg)}.")
            self._terms[name] = term_cfg.class_type(term_cfg, self._env)
