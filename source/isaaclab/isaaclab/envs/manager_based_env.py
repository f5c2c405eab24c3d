"""The manager-based environment: a batch of scenes driven by action, observation and recorder managers."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import torch

from isaaclab.managers import RecorderManager

from .action_manager import ActionManager
from .common import VecEnvObs
from .interactive_scene import InteractiveScene, SceneState
from .manager_based_env_cfg import ManagerBasedEnvCfg
from .observation_manager import ObservationManager
from .simulation_context import SimulationContext

EnvIds = Sequence[int] | torch.Tensor | None


class ManagerBasedEnv:
    """A batch of ``num_envs`` environments stepped together.

    Each :meth:`step` processes the action, records the pre-step data, runs ``cfg.decimation`` physics substeps
    (recording after each), computes the observations and records the post-step data. The recorder manager is
    built from ``cfg.recorders``; with no recorder terms it does nothing.
    """

    def __init__(self, cfg: ManagerBasedEnvCfg) -> None:
        """Build the scene and the managers, reset every environment and compute the first observations.

        Args:
            cfg: The environment configuration (every field set).

        Raises:
            TypeError: If a configuration field is missing.
            ValueError: If ``scene.num_envs`` or ``decimation`` is not positive.
            RuntimeError: If the requested device is not available.
        """
        cfg.validate()
        if cfg.scene.num_envs < 1:
            raise ValueError(f"scene.num_envs must be at least 1, got {cfg.scene.num_envs}.")
        if cfg.decimation < 1:
            raise ValueError(f"decimation must be at least 1, got {cfg.decimation}.")
        self.cfg = cfg
        self._is_closed = False
        self._device = resolve_device(cfg.sim.device)
        self.sim = SimulationContext(cfg.sim)
        self.scene: InteractiveScene = cfg.scene.class_type(cfg.scene, device=self._device)
        self.cfg.seed = self.seed(cfg.seed)
        self.common_step_counter = 0
        self._sim_step_counter = 0
        self.extras: dict = {}
        self.load_managers()
        self._reset_idx(torch.arange(self.num_envs, device=self.device))
        self.obs_buf: VecEnvObs = self.observation_manager.compute()

    """
    Properties.
    """

    @property
    def num_envs(self) -> int:
        """Number of environments."""
        return self.scene.num_envs

    @property
    def device(self) -> str:
        """Torch device of the environment's tensors."""
        return self._device

    @property
    def physics_dt(self) -> float:
        """Physics time step in seconds."""
        return self.cfg.sim.dt

    @property
    def step_dt(self) -> float:
        """Env (control) time step in seconds."""
        return self.cfg.sim.dt * self.cfg.decimation

    """
    Operations.
    """

    def load_managers(self) -> None:
        """Build the action and observation managers, then the recorder manager."""
        self.action_manager = ActionManager(self.cfg.actions, self)
        self.observation_manager = ObservationManager(self.cfg.observations, self)
        self.recorder_manager = RecorderManager(self.cfg.recorders, self)

    def seed(self, seed: int | None = None) -> int:
        """Seed Python's, NumPy's and torch's generators and the scene's reset generator.

        Args:
            seed: The seed; None draws one from torch's global generator.

        Returns:
            The seed used.
        """
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        self.scene.seed(seed)
        return seed

    def reset(
        self, seed: int | None = None, env_ids: EnvIds = None, options: dict | None = None
    ) -> tuple[VecEnvObs, dict]:
        """Reset the given environments (all by default), recording around the reset.

        Args:
            seed: Reseed the generators first, if given.
            env_ids: The environments to reset (None: all).
            options: Unused; accepted for the gymnasium API.

        Returns:
            The observations and the extras.
        """
        env_ids = self._resolve_env_ids(env_ids)
        self.recorder_manager.record_pre_reset(env_ids)
        if seed is not None:
            self.seed(seed)
        self._reset_idx(env_ids)
        self.recorder_manager.record_post_reset(env_ids)
        self.obs_buf = self.observation_manager.compute()
        return self.obs_buf, self.extras

    def reset_to(
        self, state: SceneState, env_ids: EnvIds, seed: int | None = None, is_relative: bool = False
    ) -> tuple[VecEnvObs, dict]:
        """Reset the given environments into a recorded scene state (one row of ``state`` per id).

        Args:
            state: Nested scene state as returned by ``scene.get_state``.
            env_ids: The environments to reset (None: all).
            seed: Reseed the generators first, if given.
            is_relative: Whether the positions in ``state`` are relative to each environment's origin.

        Returns:
            The observations and the extras.
        """
        env_ids = self._resolve_env_ids(env_ids)
        self.recorder_manager.record_pre_reset(env_ids)
        if seed is not None:
            self.seed(seed)
        self._reset_idx(env_ids)
        self.scene.reset_to(state, env_ids, is_relative=is_relative)
        self.recorder_manager.record_post_reset(env_ids)
        self.obs_buf = self.observation_manager.compute()
        return self.obs_buf, self.extras

    def step(self, action: torch.Tensor) -> tuple[VecEnvObs, dict]:
        """Apply one action to every environment and advance ``decimation`` physics steps.

        Args:
            action: Shape (num_envs, action_dim).

        Returns:
            The observations and the extras.
        """
        self._apply_action_and_simulate(action)
        self.obs_buf = self.observation_manager.compute()
        self.recorder_manager.record_post_step()
        return self.obs_buf, self.extras

    def close(self) -> None:
        """Close the recorder manager (writing what it has queued). Idempotent."""
        if self._is_closed:
            return
        self._is_closed = True
        self.sim.stop()
        self.recorder_manager.close()

    """
    Helpers.
    """

    def _apply_action_and_simulate(self, action: torch.Tensor) -> None:
        """Process the action, record pre-step, and run the physics substeps (recording after each)."""
        self.action_manager.process_action(action.to(self.device))
        self.recorder_manager.record_pre_step()
        for _ in range(self.cfg.decimation):
            self._sim_step_counter += 1
            self.action_manager.apply_action()
            self.scene.step(self.physics_dt)
            self.recorder_manager.record_post_physics_decimation_step()
        self.common_step_counter += 1

    def _reset_idx(self, env_ids: torch.Tensor) -> None:
        """Reset the scene, the managers and the recorder episodes of the given environments."""
        self.scene.reset(env_ids)
        self.action_manager.reset(env_ids)
        self.observation_manager.reset(env_ids)
        self.recorder_manager.reset(env_ids)

    def _resolve_env_ids(self, env_ids: EnvIds) -> torch.Tensor:
        if env_ids is None:
            return torch.arange(self.num_envs, device=self.device)
        return torch.as_tensor(env_ids, dtype=torch.long, device=self.device).reshape(-1)


def resolve_device(device: str) -> str:
    """Check that a torch device string is usable here and return it.

    Raises:
        RuntimeError: If the device string is invalid or names an unavailable accelerator.
    """
    try:
        torch_device = torch.device(device)
    except RuntimeError as err:
        raise RuntimeError(f"Invalid device '{device}': {err}") from None
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"Device '{device}' was requested but CUDA is not available; use --device cpu.")
    if torch_device.type not in ("cpu", "cuda"):
        raise RuntimeError(f"Unsupported device '{device}': use 'cpu' or 'cuda'.")
    return device
