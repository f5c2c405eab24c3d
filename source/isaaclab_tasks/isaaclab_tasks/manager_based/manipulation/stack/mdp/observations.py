"""Observation terms of the cube-stacking task (every position in the environment frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv


def last_action(env: ManagerBasedRLEnv) -> torch.Tensor:
    """The action of the last step, shape (N, 7)."""
    return env.action_manager.action.clone()


def ee_frame_pos(env: ManagerBasedRLEnv) -> torch.Tensor:
    """TCP position, shape (N, 3)."""
    return env.scene.eef_pos.clone()


def ee_frame_quat(env: ManagerBasedRLEnv) -> torch.Tensor:
    """TCP orientation (x, y, z, w), shape (N, 4)."""
    return env.scene.eef_quat.clone()


def gripper_pos(env: ManagerBasedRLEnv) -> torch.Tensor:
    """Finger joint positions, shape (N, 2)."""
    return env.scene.finger_pos.clone()


def cube_positions(env: ManagerBasedRLEnv) -> torch.Tensor:
    """Positions of the cubes, concatenated in cube order, shape (N, 3 * num_cubes)."""
    return env.scene.cube_pos.reshape(env.num_envs, -1).clone()


def cube_orientations(env: ManagerBasedRLEnv) -> torch.Tensor:
    """Orientations (x, y, z, w) of the cubes, concatenated in cube order, shape (N, 4 * num_cubes)."""
    return env.scene.cube_quat.reshape(env.num_envs, -1).clone()


def object_obs(env: ManagerBasedRLEnv) -> torch.Tensor:
    """Cube positions, cube orientations, TCP-to-cube vectors and the vectors cube_1->cube_2, cube_2->cube_3,
    cube_1->cube_3, concatenated: shape (N, 39) for three cubes."""
    scene = env.scene
    pos = scene.cube_pos
    to_cubes = pos - scene.eef_pos.unsqueeze(1)
    between = torch.stack((pos[:, 1] - pos[:, 0], pos[:, 2] - pos[:, 1], pos[:, 2] - pos[:, 0]), dim=1)
    n = env.num_envs
    return torch.cat(
        (pos.reshape(n, -1), scene.cube_quat.reshape(n, -1), to_cubes.reshape(n, -1), between.reshape(n, -1)), dim=-1
    )


def image(env: ManagerBasedRLEnv, camera_name: str) -> torch.Tensor:
    """RGB image of a scene camera, shape (N, H, W, 3), dtype uint8."""
    return env.scene.render(camera_name)


def object_grasped(env: ManagerBasedRLEnv, object_name: str) -> torch.Tensor:
    """Whether the gripper holds the cube, shape (N,)."""
    return env.scene.held == env.scene.cube_index(object_name)


def object_stacked(
    env: ManagerBasedRLEnv,
    upper_object_name: str,
    lower_object_name: str,
    xy_threshold: float = 0.02,
    height_threshold: float = 0.005,
) -> torch.Tensor:
    """Whether the upper cube rests, released, on the lower cube, shape (N,).

    Args:
        env: The environment.
        upper_object_name: The cube on top.
        lower_object_name: The cube below.
        xy_threshold: Largest horizontal offset between the cube centres.
        height_threshold: Largest deviation of their height difference from the cube size.
    """
    scene = env.scene
    upper = scene.cube_index(upper_object_name)
    lower = scene.cube_index(lower_object_name)
    offset = scene.cube_pos[:, upper] - scene.cube_pos[:, lower]
    centred = offset[:, :2].norm(dim=-1) < xy_threshold
    on_top = (offset[:, 2] - scene.cube_size).abs() < height_threshold
    at_rest = scene.cube_lin_vel[:, upper].norm(dim=-1) < 1e-3
    return centred & on_top & at_rest & (scene.held != upper)
