"""The termination manager: decides which environments end their episode."""

from __future__ import annotations

from typing import Any

import torch

from isaaclab.managers import ManagerBase, TerminationTermCfg

__all__ = ["TerminationManager", "TerminationTermCfg"]


class TerminationManager(ManagerBase):
    """Computes the termination terms; an env is done when any term is true.

    A ``None`` config (as Mimic sets while generating) gives a manager without terms that never ends an episode.
    """

    def __init__(self, cfg: object | None, env: Any) -> None:
        """Build the terms and buffers.

        Args:
            cfg: A configclass whose attributes are :class:`TerminationTermCfg` (None entries are skipped), or None.
            env: The environment.
        """
        self._term_cfgs: dict[str, TerminationTermCfg] = dict()
        super().__init__(cfg, env)
        self._term_dones = {
            name: torch.zeros(self.num_envs, dtype=torch.bool, device=self.device) for name in self._term_cfgs
        }
        self._terminated = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        self._time_outs = torch.zeros_like(self._terminated)

    @property
    def active_terms(self) -> list[str]:
        """Names of the termination terms."""
        return list(self._term_cfgs)

    @property
    def dones(self) -> torch.Tensor:
        """Whether each env ended its episode at the last :meth:`compute`, shape (num_envs,)."""
        return self._terminated | self._time_outs

    @property
    def terminated(self) -> torch.Tensor:
        """Whether each env reached a terminal state (non-time-out terms), shape (num_envs,)."""
        return self._terminated

    @property
    def time_outs(self) -> torch.Tensor:
        """Whether each env timed out, shape (num_envs,)."""
        return self._time_outs

    def compute(self) -> torch.Tensor:
        """Evaluate every term and return the done flags, shape (num_envs,)."""
        self._terminated = torch.zeros_like(self._terminated)
        self._time_outs = torch.zeros_like(self._time_outs)
        for name, cfg in self._term_cfgs.items():
            value = cfg.func(self._env, **cfg.params).to(torch.bool)
            self._term_dones[name] = value
            if cfg.time_out:
                self._time_outs |= value
            else:
                self._terminated |= value
        return self.dones

    def get_term(self, name: str) -> torch.Tensor:
        """The value of a term at the last :meth:`compute`, shape (num_envs,)."""
        return self._term_dones[name]

    def _prepare_terms(self) -> None:
        if self.cfg is None:
            return
        for name, term_cfg in self.cfg.__dict__.items():
            if term_cfg is None:
                continue
            if not isinstance(term_cfg, TerminationTermCfg):
                raise TypeError(f"Configuration for the term '{name}' is not of type TerminationTermCfg.")
            self._term_cfgs[name] = term_cfg
