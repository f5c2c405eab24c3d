"""The observation manager: computes groups of observation terms."""

from __future__ import annotations

from typing import Any

import torch

from isaaclab.managers import ManagerBase, ManagerTermBaseCfg
from isaaclab.utils import configclass


@configclass
class ObservationTermCfg(ManagerTermBaseCfg):
    """Configuration of an observation term: ``func(env, **params)`` returns a (num_envs, ...) tensor."""


@configclass
class ObservationGroupCfg:
    """Configuration of an observation group. Every attribute besides the settings is an observation term."""

    concatenate_terms: bool = True
    """Concatenate the terms into one tensor (along the last dimension); otherwise return a dict of terms."""


_GROUP_SETTINGS = frozenset({"concatenate_terms"})


class ObservationManager(ManagerBase):
    """Computes every observation group of the env from its term functions."""

    def __init__(self, cfg: object, env: Any) -> None:
        """Build the groups and their terms.

        Args:
            cfg: A configclass whose attributes are :class:`ObservationGroupCfg` (None entries are skipped).
            env: The environment.
        """
        self._group_terms: dict[str, dict[str, ObservationTermCfg]] = dict()
        self._group_concatenate: dict[str, bool] = dict()
        super().__init__(cfg, env)

    @property
    def active_terms(self) -> dict[str, list[str]]:
        """Names of the terms of each group."""
        return {group: list(terms) for group, terms in self._group_terms.items()}

    def compute(self) -> dict[str, torch.Tensor | dict[str, torch.Tensor]]:
        """Compute every group: a tensor per group, or a dict of term tensors if the group does not concatenate."""
        return {group: self.compute_group(group) for group in self._group_terms}

    def compute_group(self, group_name: str) -> torch.Tensor | dict[str, torch.Tensor]:
        """Compute one group of observations.

        Args:
            group_name: Name of the group.

        Raises:
            KeyError: If there is no group of that name.
        """
        if group_name not in self._group_terms:
            raise KeyError(f"Unknown observation group '{group_name}'. Available groups: {list(self._group_terms)}.")
        obs = {name: cfg.func(self._env, **cfg.params) for name, cfg in self._group_terms[group_name].items()}
        if self._group_concatenate[group_name]:
            return torch.cat([value.reshape(self.num_envs, -1).float() for value in obs.values()], dim=-1)
        return obs

    def _prepare_terms(self) -> None:
        for group_name, group_cfg in self.cfg.__dict__.items():
            if group_cfg is None:
                continue
            if not isinstance(group_cfg, ObservationGroupCfg):
                raise TypeError(f"Observation group '{group_name}' is not of type ObservationGroupCfg.")
            terms = dict()
            for term_name, term_cfg in group_cfg.__dict__.items():
                if term_name in _GROUP_SETTINGS or term_cfg is None:
                    continue
                if not isinstance(term_cfg, ObservationTermCfg):
                    raise TypeError(f"Observation term '{group_name}/{term_name}' is not of type ObservationTermCfg.")
                terms[term_name] = term_cfg
            self._group_terms[group_name] = terms
            self._group_concatenate[group_name] = group_cfg.concatenate_terms
