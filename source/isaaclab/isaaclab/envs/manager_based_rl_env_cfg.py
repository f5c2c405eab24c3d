"""Configuration of a manager-based RL environment."""

from __future__ import annotations

from isaaclab.utils import MISSING, configclass

from .manager_based_env_cfg import ManagerBasedEnvCfg


@configclass
class ManagerBasedRLEnvCfg(ManagerBasedEnvCfg):
    """Configuration of a :class:`~isaaclab.envs.ManagerBasedRLEnv`."""

    episode_length_s: float = MISSING
    """Episode length in seconds (the ``time_out`` term ends episodes after it)."""

    terminations: object = MISSING
    """Termination terms (a configclass of :class:`~isaaclab.envs.termination_manager.TerminationTermCfg`);
    None disables termination."""
