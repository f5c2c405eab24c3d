# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Fixtures of the datagen tests: a small kinematic pick-and-place Mimic env and source demos for it.

The world: a floating gripper ("gripper") whose pose follows the commanded target exactly, a cube and a goal marker
with random positions and yaws. Closing the gripper near the cube attaches it; opening releases it. Success: the
cube is released on the goal marker. Actions are 7-D: position delta, rotation-vector delta, gripper (+1 open,
-1 close).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

import isaaclab.utils.math as PoseUtils
from isaaclab.envs.mimic_env_cfg import DataGenConfig, MimicEnvCfg, SubTaskConfig
from isaaclab.utils.datasets import EpisodeData

GRASP_DISTANCE = 0.03
GOAL_DISTANCE = 0.03
HOME = torch.tensor([0.0, 0.0, 0.5])


def make_mimic_cfg(num_trials: int = 3, action_noise: float = 0.002, **datagen_kwargs) -> MimicEnvCfg:
    """The Mimic config of the fake task: grasp relative to the cube, then place relative to the goal."""
    cfg = MimicEnvCfg()
    cfg.datagen_config = DataGenConfig(name="fake", generation_num_trials=num_trials, **datagen_kwargs)
    cfg.subtask_configs = {
        "gripper": [
            SubTaskConfig(object_ref="cube", subtask_term_signal="grasp", action_noise=action_noise),
            SubTaskConfig(object_ref="goal", subtask_term_signal=None, action_noise=action_noise),
        ]
    }
    return cfg


class FakeRecorderManager:
    """Records the calls the generator makes."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.success: dict[int, bool] = {}
        self.exported: list[tuple[int, bool]] = []

    def reset(self, env_ids=None):
        self.calls.append(("reset", [int(i) for i in env_ids]))

    def set_success_to_episodes(self, env_ids, success_values):
        for env_id, value in zip(env_ids.tolist(), success_values.reshape(-1).tolist()):
            self.success[env_id] = bool(value)
        self.calls.append(("set_success", [int(i) for i in env_ids]))

    def export_episodes(self, env_ids=None):
        for env_id in [int(i) for i in env_ids]:
            self.exported.append((env_id, self.success.get(env_id)))
        self.calls.append(("export", [int(i) for i in env_ids]))


def rotation_from_rotvec(rotvec: torch.Tensor) -> torch.Tensor:
    """Rotation matrices from rotation vectors (axis times angle), with Isaac Lab 3.0's math functions only."""
    return PoseUtils.matrix_from_quat(PoseUtils.quat_from_angle_axis(rotvec.norm(dim=-1), rotvec))


class FakeMimicEnv:
    """A batched kinematic pick-and-place env with the Mimic interface."""

    def __init__(self, num_envs: int = 1, cfg: MimicEnvCfg | None = None, seed: int = 0, device: str = "cpu"):
        self.num_envs = num_envs
        self.device = device
        self.cfg = cfg if cfg is not None else make_mimic_cfg()
        self.generator = torch.Generator().manual_seed(seed)
        self.recorder_manager = FakeRecorderManager()
        self.action_manager = SimpleNamespace(action=torch.zeros(num_envs, 7))
        self.action_space = SimpleNamespace(shape=(num_envs, 7))
        self.sim = SimpleNamespace(is_stopped=lambda: self.stopped)
        self.scene = SimpleNamespace(get_state=self._scene_state)  # Isaac Lab's generator keeps the initial state
        self.stopped = False
        self.eef_pose = PoseUtils.make_pose(HOME.expand(num_envs, 3), torch.eye(3).expand(num_envs, 3, 3))
        self.gripper = torch.ones(num_envs)
        self.objects = {"cube": self.eef_pose.clone(), "goal": self.eef_pose.clone()}
        self.attached = torch.zeros(num_envs, dtype=torch.bool)
        self.cube_in_eef = torch.eye(4).repeat(num_envs, 1, 1)
        self.step_count = 0
        self.reset_calls: list[list[int]] = []
        self.reset()

    @property
    def common_step_counter(self) -> int:
        """Steps taken so far (as Isaac Lab's env counts them)."""
        return self.step_count

    # -- simulation

    def reset(self, env_ids=None):
        ids = list(range(self.num_envs)) if env_ids is None else [int(i) for i in env_ids]
        self.reset_calls.append(ids)
        for i in ids:
            self.eef_pose[i] = PoseUtils.make_pose(HOME, torch.eye(3))
            self.gripper[i] = 1.0
            self.attached[i] = False
            self.action_manager.action[i] = 0.0
            self.objects["cube"][i] = self._random_pose(x_range=(0.3, 0.5), y_range=(-0.3, -0.1))
            self.objects["goal"][i] = self._random_pose(x_range=(0.3, 0.5), y_range=(0.1, 0.3))

    def _scene_state(self, is_relative: bool = False) -> dict:
        """The scene's state in the form of ``InteractiveScene.get_state`` (here only the objects' poses)."""
        return {"rigid_object": {name: {"root_pose": pose.clone()} for name, pose in self.objects.items()}}

    def _random_pose(self, x_range, y_range) -> torch.Tensor:
        u = torch.rand(3, generator=self.generator)
        pos = torch.tensor(
            [x_range[0] + u[0] * (x_range[1] - x_range[0]), y_range[0] + u[1] * (y_range[1] - y_range[0]), 0.02]
        )
        yaw = (u[2] - 0.5) * math.pi / 2
        return PoseUtils.make_pose(pos, rotation_from_rotvec(torch.tensor([0.0, 0.0, float(yaw)])))

    def step(self, actions: torch.Tensor):
        assert actions.shape == (self.num_envs, 7), actions.shape
        self.step_count += 1
        self.action_manager.action = actions.clone()
        pos, rot = PoseUtils.unmake_pose(self.eef_pose)
        new_rot = rotation_from_rotvec(actions[:, 3:6]) @ rot
        self.eef_pose = PoseUtils.make_pose(pos + actions[:, :3], new_rot)
        closing = actions[:, 6] < 0
        near = (self.objects["cube"][:, :3, 3] - self.eef_pose[:, :3, 3]).norm(dim=-1) < GRASP_DISTANCE
        grasp = closing & near & ~self.attached
        self.cube_in_eef[grasp] = PoseUtils.pose_inv(self.eef_pose[grasp]) @ self.objects["cube"][grasp]
        self.attached = (self.attached | grasp) & closing
        self.objects["cube"][self.attached] = self.eef_pose[self.attached] @ self.cube_in_eef[self.attached]
        self.gripper = actions[:, 6].clone()

    # -- Mimic interface

    def get_robot_eef_pose(self, eef_name: str, env_ids=None) -> torch.Tensor:
        ids = slice(None) if env_ids is None else list(env_ids)
        return self.eef_pose[ids].clone()

    def get_object_poses(self, env_ids=None) -> dict[str, torch.Tensor]:
        ids = slice(None) if env_ids is None else list(env_ids)
        return {name: pose[ids].clone() for name, pose in self.objects.items()}

    def target_eef_pose_to_action(self, target_eef_pose_dict, gripper_action_dict, action_noise_dict=None, env_id=0):
        target = target_eef_pose_dict["gripper"]
        current = self.eef_pose[env_id]
        delta_pos = target[:3, 3] - current[:3, 3]
        delta_rot = PoseUtils.axis_angle_from_quat(PoseUtils.quat_from_matrix(target[:3, :3] @ current[:3, :3].T))
        pose_action = torch.cat((delta_pos, delta_rot))
        if action_noise_dict is not None:
            pose_action = pose_action + action_noise_dict["gripper"] * torch.randn_like(pose_action)
        return torch.cat((pose_action, gripper_action_dict["gripper"].reshape(1)))

    def action_to_target_eef_pose(self, action: torch.Tensor) -> dict[str, torch.Tensor]:
        pos, rot = PoseUtils.unmake_pose(self.eef_pose)
        delta_rot = rotation_from_rotvec(action[:, 3:6])
        return {"gripper": PoseUtils.make_pose(pos + action[:, :3], delta_rot @ rot)}

    def actions_to_gripper_actions(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"gripper": actions[..., 6:7]}

    def get_subtask_term_signals(self, env_ids=None) -> dict[str, torch.Tensor]:
        ids = slice(None) if env_ids is None else list(env_ids)
        return {"grasp": self.attached[ids].float()}


def task_success(env: FakeMimicEnv) -> torch.Tensor:
    """Cube released on the goal marker, (num_envs,) bool."""
    on_goal = (env.objects["cube"][:, :3, 3] - env.objects["goal"][:, :3, 3]).norm(dim=-1) < GOAL_DISTANCE
    return on_goal & ~env.attached


SUCCESS_TERM = SimpleNamespace(func=task_success, params={})
"""A success term config: ``func(env, **params)``."""


def _expert_targets(env: FakeMimicEnv) -> list[tuple[torch.Tensor, float]]:
    """Scripted (target pose, gripper) key frames of env 0: relative to the cube, then to the goal."""
    cube, goal = env.objects["cube"][0], env.objects["goal"][0]
    above = PoseUtils.make_pose(torch.tensor([0.0, 0.0, 0.1]), torch.eye(3))
    return [(cube @ above, 1.0), (cube, 1.0), (cube, -1.0), (cube @ above, -1.0), (goal @ above, -1.0), (goal, -1.0)]


def record_source_demo(env: FakeMimicEnv, steps_per_segment: int = 6) -> EpisodeData:
    """Run the scripted expert in env 0 (num_envs must be 1) and return an annotated episode."""
    eef_poses, target_poses, actions, cube_poses, goal_poses, grasp = [], [], [], [], [], []
    for key_pose, gripper in _expert_targets(env):
        start = env.eef_pose[0].clone()
        poses, _ = PoseUtils.interpolate_poses(start, key_pose, num_steps=steps_per_segment - 1)
        for target in poses[1:]:
            eef_poses.append(env.eef_pose[0].clone())
            cube_poses.append(env.objects["cube"][0].clone())
            goal_poses.append(env.objects["goal"][0].clone())
            grasp.append(env.get_subtask_term_signals()["grasp"][0].clone())
            action = env.target_eef_pose_to_action({"gripper": target}, {"gripper": torch.tensor([gripper])})
            target_poses.append(target.clone())
            actions.append(action)
            env.step(action.unsqueeze(0))
    # release on the goal and hold one step
    for _ in range(2):
        eef_poses.append(env.eef_pose[0].clone())
        cube_poses.append(env.objects["cube"][0].clone())
        goal_poses.append(env.objects["goal"][0].clone())
        grasp.append(env.get_subtask_term_signals()["grasp"][0].clone())
        target_poses.append(env.eef_pose[0].clone())
        action = env.target_eef_pose_to_action({"gripper": env.eef_pose[0]}, {"gripper": torch.tensor([1.0])})
        actions.append(action)
        env.step(action.unsqueeze(0))
    assert bool(task_success(env)[0]), "the scripted expert must succeed"
    episode = EpisodeData()
    episode.data = {
        "actions": torch.stack(actions),
        "obs": {
            "datagen_info": {
                "eef_pose": {"gripper": torch.stack(eef_poses)},
                "object_pose": {"cube": torch.stack(cube_poses), "goal": torch.stack(goal_poses)},
                "target_eef_pose": {"gripper": torch.stack(target_poses)},
                "subtask_term_signals": {"grasp": torch.stack(grasp)},
            }
        },
    }
    episode.success = True
    return episode


def make_source_episodes(num_demos: int, seed: int = 100) -> list[EpisodeData]:
    """Scripted source demos, each from a fresh random reset."""
    env = FakeMimicEnv(num_envs=1, seed=seed)
    episodes = []
    for _ in range(num_demos):
        env.reset()
        episodes.append(record_source_demo(env))
    return episodes


@pytest.fixture
def fakes() -> SimpleNamespace:
    """The fake env, its config, success term and source demos."""
    return SimpleNamespace(
        FakeMimicEnv=FakeMimicEnv,
        make_mimic_cfg=make_mimic_cfg,
        make_source_episodes=make_source_episodes,
        success_term=SUCCESS_TERM,
    )
