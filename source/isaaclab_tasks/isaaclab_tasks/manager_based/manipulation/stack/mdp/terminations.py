"""Termination terms of the cube-stacking task."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .observations import object_stacked

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv


def time_out(env: ManagerBasedRLEnv) -> torch.Tensor:
    """Whether the episode reached its length limit, shape (N,)."""
    return env.episode_length_buf >= env.max_episode_length


def cubes_stacked(
    env: ManagerBasedRLEnv,
    cube_names: tuple[str, str, str] = ("cube_1", "cube_2", "cube_3"),
    xy_threshold: float = 0.02,
    height_threshold: float = 0.005,
    gripper_open_margin: float = 0.005,
) -> torch.Tensor:
    """Success: the second cube rests on the first, the third on the second, and the gripper is open, shape (N,).

    Args:
        env: The environment.
        cube_names: Bottom, middle and top cube.
        xy_threshold: Largest horizontal offset between stacked cube centres.
        height_threshold: Largest deviation of stacked height differences from the cube size.
        gripper_open_margin: How much wider than a cube the fingers must be open.
    """
    bottom, middle, top = cube_names
    scene = env.scene
    stacked = object_stacked(env, middle, bottom, xy_threshold, height_threshold)
    stacked &= object_stacked(env, top, middle, xy_threshold, height_threshold)
    released = (scene.held < 0) & (scene.finger_pos.sum(dim=-1) > scene.cube_size + gripper_open_margin)
    return stacked & released
