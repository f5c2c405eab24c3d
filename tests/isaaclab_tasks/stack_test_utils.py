"""Helpers of the stacking-task tests: build envs and put the scene into hand-made states."""

from __future__ import annotations

import math

import gymnasium as gym
import torch

import isaaclab_tasks  # noqa: F401  (registers the tasks)
from isaaclab_tasks.utils import parse_env_cfg

TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-v0"
VISUOMOTOR_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-v0"
SIZE = 0.05
OPEN = 1.0
CLOSE = -1.0


def make_env(task: str = TASK, num_envs: int = 1, seed: int = 0, device: str = "cpu", **cfg_changes):
    """A stacking env (unwrapped); ``cfg_changes`` set config attributes by dotted path."""
    cfg = parse_env_cfg(task, device=device, num_envs=num_envs)
    cfg.seed = seed
    for path, value in cfg_changes.items():
        target = cfg
        *parents, leaf = path.split("__")
        for name in parents:
            target = getattr(target, name)
        setattr(target, leaf, value)
    return gym.make(task, cfg=cfg).unwrapped


def yaw_quat(yaw: float) -> list[float]:
    return [0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]


def gripper_quat(yaw: float = 0.0) -> list[float]:
    """Fingers down, turned by ``yaw`` about the world z axis."""
    s, c = math.sin(yaw / 2), math.cos(yaw / 2)
    return [c, s, 0.0, 0.0]


def set_scene(env, eef_pos, eef_yaw=0.0, fingers=0.04, cubes=None, env_ids=None):
    """Put every given env into the same hand-made state.

    Args:
        env: The env.
        eef_pos: TCP position.
        eef_yaw: TCP yaw (fingers down).
        fingers: Finger joint positions (each).
        cubes: ``{name: (position, yaw)}``; cubes not named are parked far apart on the table.
        env_ids: The envs to set (None: all).
    """
    ids = list(range(env.num_envs)) if env_ids is None else env_ids
    n = len(ids)
    parked = {
        "cube_1": ([0.8, -0.3, SIZE / 2], 0.0),
        "cube_2": ([0.8, 0.0, SIZE / 2], 0.0),
        "cube_3": ([0.8, 0.3, SIZE / 2], 0.0),
    }
    parked.update(cubes or {})

    def rows(values):
        return torch.tensor(values, dtype=torch.float32).expand(n, -1).clone()

    state = {
        "articulation": {
            "robot": {
                "root_pose": rows(list(eef_pos) + gripper_quat(eef_yaw)),
                "root_velocity": rows([0.0] * 6),
                "joint_position": rows([fingers, fingers]),
                "joint_velocity": rows([0.0, 0.0]),
            }
        },
        "rigid_object": {
            name: {"root_pose": rows(list(pos) + yaw_quat(yaw)), "root_velocity": rows([0.0] * 6)}
            for name, (pos, yaw) in parked.items()
        },
    }
    return env.reset_to(state, ids, is_relative=True)


def act(env, dpos=(0.0, 0.0, 0.0), drot=(0.0, 0.0, 0.0), gripper=OPEN, steps=1):
    """Step every env with the same action ``steps`` times; returns the last step's results."""
    action = torch.tensor(list(dpos) + list(drot) + [gripper], dtype=torch.float32).expand(env.num_envs, -1)
    for _ in range(steps):
        result = env.step(action.to(env.device))
    return result


def cube(env, name: str, env_id: int = 0) -> torch.Tensor:
    return env.scene.cube_pos[env_id, env.scene.cube_index(name)]
