"""The Mimic interface of the stacking task: pose conversions, object poses, signals and the Mimic config."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from stack_test_utils import CLOSE, OPEN, SIZE, act, set_scene

import isaaclab.utils.math as PoseUtils
from isaaclab.envs import ManagerBasedRLMimicEnv, MimicEnvCfg

import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)
from isaaclab_mimic.envs import GripperCubeStackIKRelMimicEnv

from isaaclab_tasks.utils import parse_env_cfg

MIMIC_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
VISUOMOTOR_MIMIC_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0"


@pytest.fixture
def env():
    cfg = parse_env_cfg(MIMIC_TASK, num_envs=4)
    cfg.seed = 5
    env = gym.make(MIMIC_TASK, cfg=cfg).unwrapped
    env.reset()
    yield env
    env.close()


def random_actions(num: int, generator: torch.Generator) -> torch.Tensor:
    actions = torch.rand(num, 7, generator=generator) * 2.0 - 1.0
    actions[:, 6] = torch.where(actions[:, 6] < 0, -1.0, 1.0)
    return actions


def test_mimic_tasks_register_the_mimic_env_class():
    for task in (MIMIC_TASK, VISUOMOTOR_MIMIC_TASK):
        assert gym.spec(task).entry_point.endswith(":GripperCubeStackIKRelMimicEnv")
        assert isinstance(parse_env_cfg(task), MimicEnvCfg)


def test_mimic_config_describes_the_four_subtasks_of_the_gripper():
    cfg = parse_env_cfg(MIMIC_TASK)
    subtasks = cfg.subtask_configs["gripper"]
    assert list(cfg.subtask_configs) == ["gripper"]
    assert [s.object_ref for s in subtasks] == ["cube_2", "cube_1", "cube_3", "cube_2"]
    assert [s.subtask_term_signal for s in subtasks] == ["grasp_1", "stack_1", "grasp_2", None]
    assert subtasks[-1].subtask_term_offset_range == (0, 0)
    assert cfg.datagen_config.generation_num_trials == 10
    assert cfg.subtask_configs is not parse_env_cfg(MIMIC_TASK).subtask_configs  # each config owns its lists


def test_env_is_a_mimic_env(env):
    assert isinstance(env, ManagerBasedRLMimicEnv) and isinstance(env, GripperCubeStackIKRelMimicEnv)


def test_pose_round_trip_within_action_limits(env):
    """action_to_target_eef_pose(target_eef_pose_to_action(p)) == p for every reachable target p."""
    generator = torch.Generator().manual_seed(0)
    targets = env.action_to_target_eef_pose(random_actions(env.num_envs, generator))["gripper"]
    for env_id in range(env.num_envs):
        action = env.target_eef_pose_to_action(
            {"gripper": targets[env_id]}, {"gripper": torch.tensor([1.0])}, env_id=env_id
        )
        assert action.shape == (7,)
        batch = torch.zeros(env.num_envs, 7)
        batch[env_id] = action
        back = env.action_to_target_eef_pose(batch)["gripper"][env_id]
        assert torch.allclose(back, targets[env_id], atol=1e-5)


def test_actions_round_trip_and_the_env_reaches_the_target(env):
    generator = torch.Generator().manual_seed(1)
    actions = random_actions(env.num_envs, generator)
    targets = env.action_to_target_eef_pose(actions)["gripper"]
    for env_id in range(env.num_envs):
        gripper = {"gripper": actions[env_id, 6:]}
        recovered = env.target_eef_pose_to_action({"gripper": targets[env_id]}, gripper, env_id=env_id)
        assert torch.allclose(recovered, actions[env_id], atol=1e-4)
    env.step(actions)
    assert torch.allclose(env.get_robot_eef_pose("gripper"), targets, atol=1e-5)


def test_far_targets_are_clipped_and_noise_is_added(env):
    target = env.get_robot_eef_pose("gripper", [2])[0].clone()
    target[:3, 3] += torch.tensor([0.5, -0.5, 0.001])
    action = env.target_eef_pose_to_action({"gripper": target}, {"gripper": torch.tensor([-1.0])}, env_id=2)
    assert torch.allclose(action, torch.tensor([1.0, -1.0, 0.05, 0.0, 0.0, 0.0, -1.0]), atol=1e-5)
    torch.manual_seed(0)
    noisy = env.target_eef_pose_to_action(
        {"gripper": target}, {"gripper": torch.tensor([-1.0])}, action_noise_dict={"gripper": 0.05}, env_id=2
    )
    assert not torch.allclose(noisy[:6], action[:6]) and noisy[:6].abs().max() <= 1.0


def test_eef_and_object_poses_are_in_the_env_frame(env):
    eef = env.get_robot_eef_pose("gripper")
    assert eef.shape == (4, 4, 4)
    assert torch.allclose(eef[:, :3, 3], env.scene.eef_pos)
    assert torch.allclose(PoseUtils.quat_from_matrix(eef[:, :3, :3]).abs(), env.scene.eef_quat.abs(), atol=1e-6)
    poses = env.get_object_poses()
    assert set(poses) == {"cube_1", "cube_2", "cube_3"}
    assert torch.allclose(poses["cube_3"][:, :3, 3], env.scene.cube_pos[:, 2])  # not shifted by the env origins
    subset = env.get_object_poses(env_ids=[1, 3])
    assert torch.equal(subset["cube_1"], poses["cube_1"][[1, 3]])
    with pytest.raises(KeyError, match="gripper"):
        env.get_robot_eef_pose("left_hand")


def test_gripper_actions_are_the_last_column(env):
    actions = torch.arange(3 * 5 * 7, dtype=torch.float32).reshape(3, 5, 7)
    gripper = env.actions_to_gripper_actions(actions)
    assert list(gripper) == ["gripper"]
    assert torch.equal(gripper["gripper"], actions[..., 6:])


def test_subtask_term_signals_track_grasp_and_stack(env):
    signals = env.get_subtask_term_signals()
    assert set(signals) == {"grasp_1", "stack_1", "grasp_2"}
    assert all(value.dtype == torch.float32 and value.shape == (4,) for value in signals.values())
    set_scene(env, [0.5, 0.0, SIZE / 2], cubes={"cube_2": ([0.5, 0.0, SIZE / 2], 0.0)}, env_ids=[1])
    act(env, gripper=CLOSE, steps=4)
    assert env.get_subtask_term_signals([1]) == {
        "grasp_1": torch.tensor([1.0]),
        "stack_1": torch.tensor([0.0]),
        "grasp_2": torch.tensor([0.0]),
    }
    act(env, gripper=OPEN)
    assert env.get_subtask_term_signals([1])["grasp_1"].tolist() == [0.0]


def test_serialize_names_the_task(env):
    assert env.serialize() == {"env_name": MIMIC_TASK, "type": 2, "env_kwargs": {}}
