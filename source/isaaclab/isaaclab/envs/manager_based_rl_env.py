"""The manager-based RL environment: a gymnasium vector-style env with terminations and episode lengths."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import torch

from .common import VecEnvStepReturn
from .manager_based_env import ManagerBasedEnv
from .manager_based_rl_env_cfg import ManagerBasedRLEnvCfg
from .termination_manager import TerminationManager


class ManagerBasedRLEnv(ManagerBasedEnv, gym.Env):
    """A :class:`ManagerBasedEnv` with terminations, time-outs and automatic resets.

    Inside :meth:`step`: process the action, ``record_pre_step``, the physics substeps (each followed by
    ``record_post_physics_decimation_step``), terminations, observations, ``record_post_step``, and for the
    environments that are done ``record_pre_reset``, the reset and ``record_post_reset``.
    """

    is_vector_env: ClassVar[bool] = True
    """The env holds a batch of environments."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": [None]}
    """Rendering is not supported; camera images come as observations."""

    def __init__(self, cfg: ManagerBasedRLEnvCfg, render_mode: str | None = None, **kwargs: Any) -> None:
        """Build the environment.

        Args:
            cfg: The environment configuration.
            render_mode: Must be None.
            **kwargs: Ignored (gymnasium passes the registration kwargs, such as ``env_cfg_entry_point``).
        """
        self.render_mode = render_mode
        super().__init__(cfg)
        self.max_episode_length_s = cfg.episode_length_s
        self.max_episode_length = math.ceil(cfg.episode_length_s / self.step_dt)
        self.reward_buf = torch.zeros(self.num_envs, device=self.device)
        self.reset_buf = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        self.reset_terminated = torch.zeros_like(self.reset_buf)
        self.reset_time_outs = torch.zeros_like(self.reset_buf)
        self._configure_gym_env_spaces()

    def load_managers(self) -> None:
        """Build the termination manager, then the action, observation and recorder managers."""
        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.termination_manager = TerminationManager(self.cfg.terminations, self)
        super().load_managers()

    def step(self, action: torch.Tensor) -> VecEnvStepReturn:
        """Apply one action to every environment, advance the physics and reset the environments that are done.

        Args:
            action: Shape (num_envs, action_dim).

        Returns:
            Observations, rewards (zeros: the slice has no reward terms), terminated flags, time-out flags, extras.
        """
        self._apply_action_and_simulate(action)
        self.episode_length_buf += 1
        self.reset_buf = self.termination_manager.compute()
        self.reset_terminated = self.termination_manager.terminated
        self.reset_time_outs = self.termination_manager.time_outs
        self.obs_buf = self.observation_manager.compute()
        self.recorder_manager.record_post_step()

        reset_env_ids = self.reset_buf.nonzero(as_tuple=False).squeeze(-1)
        if len(reset_env_ids) > 0:
            self.recorder_manager.record_pre_reset(reset_env_ids)
            self._reset_idx(reset_env_ids)
            self.recorder_manager.record_post_reset(reset_env_ids)
            self.obs_buf = self.observation_manager.compute()
        return self.obs_buf, self.reward_buf, self.reset_terminated, self.reset_time_outs, self.extras

    def _reset_idx(self, env_ids: torch.Tensor) -> None:
        super()._reset_idx(env_ids)
        self.episode_length_buf[env_ids] = 0

    def _configure_gym_env_spaces(self) -> None:
        """Describe the action and observation spaces (single env and batched)."""
        action_dim = self.action_manager.total_action_dim
        self.single_action_space = gym.spaces.Box(low=-math.inf, high=math.inf, shape=(action_dim,))
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = gym.spaces.Dict(
            {group: _space_of(value) for group, value in self.obs_buf.items()}
        )
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)


def _space_of(value: torch.Tensor | dict[str, torch.Tensor]) -> gym.Space:
    """The space of one environment's slice of a batched observation (a tensor or a dict of tensors)."""
    if isinstance(value, dict):
        return gym.spaces.Dict({name: _space_of(item) for name, item in value.items()})
    shape = tuple(value.shape[1:])
    if value.dtype == torch.uint8:
        return gym.spaces.Box(low=0, high=255, shape=shape, dtype="uint8")
    return gym.spaces.Box(low=-math.inf, high=math.inf, shape=shape)
