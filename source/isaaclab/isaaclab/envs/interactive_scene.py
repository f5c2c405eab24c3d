"""The scene: the assets of every environment copy, their state and their physics."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch

from isaaclab.utils import MISSING, configclass

SceneState = dict[str, dict[str, dict[str, torch.Tensor]]]
"""Nested scene state: ``state[kind][asset_name][field]``, each leaf a tensor with one row per environment."""


@configclass
class InteractiveSceneCfg:
    """Configuration of a scene with ``num_envs`` copies laid out on a grid."""

    class_type: type = MISSING
    """The :class:`InteractiveScene` subclass that simulates this scene."""

    num_envs: int = MISSING
    """Number of environment copies."""

    env_spacing: float = MISSING
    """Distance between the origins of neighbouring environment copies, in meters."""


class InteractiveScene(ABC):
    """A batch of environment copies whose state lives in torch tensors.

    Subclasses own the assets and their physics. State is kept in each environment's own frame; world positions
    are those plus :attr:`env_origins`.
    """

    def __init__(self, cfg: InteractiveSceneCfg, device: str) -> None:
        """Create the scene.

        Args:
            cfg: The scene configuration.
            device: The torch device of every buffer.
        """
        self.cfg = cfg
        self.device = device
        self.generator = torch.Generator(device=device)
        self.env_origins = grid_origins(cfg.num_envs, cfg.env_spacing, device)

    @property
    def num_envs(self) -> int:
        """Number of environment copies."""
        return self.cfg.num_envs

    def seed(self, seed: int) -> None:
        """Seed the random generator used for resets."""
        self.generator.manual_seed(seed)

    @abstractmethod
    def reset(self, env_ids: torch.Tensor) -> None:
        """Put the given environments into a fresh (randomised) initial state."""

    @abstractmethod
    def step(self, dt: float) -> None:
        """Advance the physics of every environment by ``dt`` seconds."""

    @abstractmethod
    def get_state(self, is_relative: bool = False) -> SceneState:
        """The state of every asset, positions in the world or (``is_relative``) in each environment's frame."""

    @abstractmethod
    def reset_to(
        self, state: SceneState, env_ids: Sequence[int] | torch.Tensor | None = None, is_relative: bool = False
    ):
        """Set the state of the given environments (one row of ``state`` per id)."""


def grid_origins(num_envs: int, spacing: float, device: str) -> torch.Tensor:
    """Origins of ``num_envs`` environments on a square grid centred on the world origin.

    Returns:
        The origins, shape (num_envs, 3).
    """
    num_rows = math.ceil(math.sqrt(num_envs))
    num_cols = math.ceil(num_envs / num_rows)
    index = torch.arange(num_envs, device=device)
    rows = torch.div(index, num_cols, rounding_mode="floor").float()
    cols = (index % num_cols).float()
    origins = torch.zeros(num_envs, 3, device=device)
    origins[:, 0] = -(rows - (num_rows - 1) / 2) * spacing
    origins[:, 1] = (cols - (num_cols - 1) / 2) * spacing
    return origins
