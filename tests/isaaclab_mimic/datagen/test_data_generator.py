"""Tests for the data generator: segment selection, transformation, interpolation and one-env generation."""

from __future__ import annotations

import asyncio

import pytest
import torch

import isaaclab.utils.math as PoseUtils
from isaaclab.envs.mimic_env_cfg import SubTaskConfig
from isaaclab.utils.datasets import HDF5DatasetFileHandler

from isaaclab_mimic.datagen.data_generator import DataGenerator
from isaaclab_mimic.datagen.datagen_info_pool import DataGenInfoPool
from isaaclab_mimic.datagen.selection_strategy import (
    REGISTERED_SELECTION_STRATEGIES,
    SelectionStrategy,
    register_selection_strategy,
)
from isaaclab_mimic.datagen.waypoint import Waypoint


def make_generator(fakes, num_demos: int = 1, cfg=None, num_envs: int = 1, seed: int = 7):
    env = fakes.FakeMimicEnv(num_envs=num_envs, cfg=cfg, seed=seed)
    pool = DataGenInfoPool(env, env.cfg, "cpu")
    for episode in fakes.make_source_episodes(num_demos):
        asyncio.run(pool.add_episode(episode))
    return env, pool, DataGenerator(env, src_demo_datagen_info_pool=pool)


def poses_of(trajectory) -> torch.Tensor:
    return torch.stack([waypoint.pose for waypoint in trajectory])


def test_first_subtask_is_the_source_segment_moved_with_the_object(fakes):
    env, pool, generator = make_generator(fakes)
    boundaries = generator.randomize_subtask_boundaries()
    start, end = boundaries["gripper"][0, 0].tolist()
    trajectory = generator.generate_eef_subtask_trajectory(0, "gripper", 0, boundaries, {})

    num_interp = env.cfg.subtask_configs["gripper"][0].num_interpolation_steps
    source = pool.datagen_infos[0]
    src_cube = source.object_poses["cube"][start]
    cube_now = env.get_object_poses()["cube"][0]
    # the source's measured start pose, then its targets
    src_poses = torch.cat((source.eef_pose["gripper"][start : start + 1], source.target_eef_pose["gripper"][start:end]))
    assert len(trajectory) == num_interp + len(src_poses)
    segment = poses_of(trajectory)[num_interp:]
    # each pose keeps its relation to the cube
    torch.testing.assert_close(
        PoseUtils.pose_inv(cube_now) @ segment, PoseUtils.pose_inv(src_cube) @ src_poses, atol=1e-5, rtol=0
    )
    # the bridge starts next to the current eef pose and is evenly spaced
    eef_now = env.get_robot_eef_pose("gripper")[0]
    bridge_start = eef_now[:3, 3] + (segment[0, :3, 3] - eef_now[:3, 3]) / (num_interp + 1)
    torch.testing.assert_close(poses_of(trajectory)[0, :3, 3], bridge_start, atol=1e-5, rtol=0)
    # gripper actions follow the source
    grippers = torch.stack([waypoint.gripper_action for waypoint in trajectory])
    torch.testing.assert_close(grippers[num_interp + 1 :], source.gripper_action["gripper"][start:end])


@pytest.mark.parametrize("from_last_target", [True, False])
def test_later_subtasks_bridge_from_the_last_target_or_the_current_pose(fakes, from_last_target):
    cfg = fakes.make_mimic_cfg(generation_interpolate_from_last_target_pose=from_last_target)
    cfg.subtask_configs["gripper"][1].num_interpolation_steps = 1
    env, pool, generator = make_generator(fakes, cfg=cfg)
    boundaries = generator.randomize_subtask_boundaries()
    start, end = boundaries["gripper"][0, 1].tolist()
    last_target = env.get_robot_eef_pose("gripper")[0]
    last_target[:3, 3] += torch.tensor([0.0, 0.0, 0.2])
    trajectory = generator.generate_eef_subtask_trajectory(
        0, "gripper", 1, boundaries, {(None, 0): 0}, Waypoint(last_target, torch.tensor([-1.0]))
    )
    # only the source targets (no measured start pose), after 1 bridge pose
    assert len(trajectory) == 1 + (end - start)
    origin = last_target if from_last_target else env.get_robot_eef_pose("gripper")[0]
    first_target = poses_of(trajectory)[1]
    torch.testing.assert_close(
        poses_of(trajectory)[0, :3, 3], (origin[:3, 3] + first_target[:3, 3]) / 2, atol=1e-5, rtol=0
    )


def test_transform_first_robot_pose_starts_later_subtasks_at_the_measured_pose(fakes):
    cfg = fakes.make_mimic_cfg(generation_transform_first_robot_pose=True)
    cfg.subtask_configs["gripper"][1].num_interpolation_steps = 0
    env, pool, generator = make_generator(fakes, cfg=cfg)
    boundaries = generator.randomize_subtask_boundaries()
    start, end = boundaries["gripper"][0, 1].tolist()
    last = Waypoint(env.get_robot_eef_pose("gripper")[0], torch.tensor([-1.0]))
    trajectory = generator.generate_eef_subtask_trajectory(0, "gripper", 1, boundaries, {(None, 0): 0}, last)
    source = pool.datagen_infos[0]
    goal_now = env.get_object_poses()["goal"][0]
    expected_first = (
        goal_now @ PoseUtils.pose_inv(source.object_poses["goal"][start]) @ source.eef_pose["gripper"][start]
    )
    assert len(trajectory) == 1 + (end - start)
    torch.testing.assert_close(poses_of(trajectory)[0], expected_first, atol=1e-5, rtol=0)


def test_fixed_steps_and_noise_during_interpolation(fakes):
    cfg = fakes.make_mimic_cfg(action_noise=0.01)
    cfg.subtask_configs["gripper"][0].num_interpolation_steps = 2
    cfg.subtask_configs["gripper"][0].num_fixed_steps = 3
    cfg.subtask_configs["gripper"][0].apply_noise_during_interpolation = True
    env, pool, generator = make_generator(fakes, cfg=cfg)
    boundaries = generator.randomize_subtask_boundaries()
    trajectory = list(generator.generate_eef_subtask_trajectory(0, "gripper", 0, boundaries, {}))
    # 2 interpolated + target + 3 holds of the target, then the rest of the segment
    for held in trajectory[3:6]:
        torch.testing.assert_close(held.pose, trajectory[2].pose)
    assert all(waypoint.noise == pytest.approx(0.01) for waypoint in trajectory)


def test_subtask_boundary_offsets_stay_in_range_and_contiguous(fakes):
    cfg = fakes.make_mimic_cfg()
    cfg.subtask_configs["gripper"][0].first_subtask_start_offset_range = (1, 2)
    cfg.subtask_configs["gripper"][0].subtask_term_offset_range = (-3, 3)
    env, pool, generator = make_generator(fakes, num_demos=2, cfg=cfg)
    nominal = torch.tensor(pool.subtask_boundaries["gripper"])
    torch.manual_seed(0)
    draws = torch.stack([generator.randomize_subtask_boundaries()["gripper"] for _ in range(100)])
    start_offsets = draws[:, :, 0, 0] - nominal[:, 0, 0]
    end_offsets = draws[:, :, 0, 1] - nominal[:, 0, 1]
    assert set(start_offsets.unique().tolist()) == {1, 2}
    assert set(end_offsets.unique().tolist()) == {-3, -2, -1, 0, 1, 2, 3}
    assert torch.equal(draws[:, :, 1, 0], draws[:, :, 0, 1])
    assert torch.equal(draws[:, :, 1, 1], nominal[:, 1, 1].expand(100, 2))


def test_generate_in_one_env_succeeds_and_exports(fakes):
    env, pool, generator = make_generator(fakes, num_demos=2)
    torch.manual_seed(0)
    results = asyncio.run(generator.generate(0, fakes.success_term))
    assert results["success"] is True
    assert results["actions"].shape == (env.step_count, 7)
    assert env.reset_calls[-1] == [0]
    # the recorded episode is reset before the trial, then marked and exported
    assert env.recorder_manager.calls == [("reset", [0]), ("set_success", [0]), ("export", [0])]
    assert env.recorder_manager.exported == [(0, True)]
    assert len(results["src_demo_inds"]["gripper"]) == 2
    # no export when asked not to
    results = asyncio.run(generator.generate(0, fakes.success_term, export_demo=False))
    assert env.recorder_manager.calls[-1] == ("set_success", [0])


def test_without_object_frames_the_replay_misses(fakes):
    # control for the test above: replaying the source poses untransformed fails in new object poses
    cfg = fakes.make_mimic_cfg()
    for subtask in cfg.subtask_configs["gripper"]:
        subtask.object_ref = None
    env, pool, generator = make_generator(fakes, cfg=cfg)
    torch.manual_seed(0)
    outcomes = [asyncio.run(generator.generate(0, fakes.success_term))["success"] for _ in range(3)]
    assert outcomes == [False, False, False]
    assert env.recorder_manager.exported == [(0, False)] * 3


@pytest.mark.parametrize("per_subtask", [False, True])
def test_source_demo_selection_per_trial_or_per_subtask(fakes, per_subtask):
    cfg = fakes.make_mimic_cfg(generation_select_src_per_subtask=per_subtask)
    env, pool, generator = make_generator(fakes, num_demos=4, cfg=cfg)
    torch.manual_seed(1)
    choices = [asyncio.run(generator.generate(0, fakes.success_term))["src_demo_inds"]["gripper"] for _ in range(6)]
    mixed = [first != second for first, second in choices]
    assert any(mixed) == per_subtask


def test_selection_strategy_of_the_subtask_is_used(fakes):
    seen = []

    class PickLastAndRecord(SelectionStrategy):
        NAME = "test_pick_last_and_record"

        def select_source_demo(self, eef_pose, object_pose, src_subtask_datagen_infos, marker=None):
            seen.append((object_pose.clone(), marker, src_subtask_datagen_infos))
            return len(src_subtask_datagen_infos) - 1

    cfg = fakes.make_mimic_cfg()
    cfg.subtask_configs["gripper"][0].selection_strategy = PickLastAndRecord.NAME
    cfg.subtask_configs["gripper"][0].selection_strategy_kwargs = {"marker": "kwargs reach the strategy"}
    register_selection_strategy(PickLastAndRecord)
    try:
        env, pool, generator = make_generator(fakes, num_demos=3, cfg=cfg)
        cube_after_reset = []
        reset = env.reset

        def reset_and_note_the_cube(env_ids=None):
            reset(env_ids)
            cube_after_reset.append(env.objects["cube"][0].clone())

        env.reset = reset_and_note_the_cube
        results = asyncio.run(generator.generate(0, fakes.success_term))
    finally:
        REGISTERED_SELECTION_STRATEGIES.pop(PickLastAndRecord.NAME)
    assert results["src_demo_inds"]["gripper"] == [2, 2]
    ((object_pose, marker, segments),) = seen
    assert marker == "kwargs reach the strategy"
    # one segment per source demo, of the first subtask, with the subtask's object
    assert len(segments) == 3 and set(segments[0].object_poses) == {"cube"}
    start, end = pool.subtask_boundaries["gripper"][0][0]
    assert segments[0].eef_pose["gripper"].shape[0] == end - start
    # the current cube pose: right after the reset, before the generator moved anything
    torch.testing.assert_close(object_pose, cube_after_reset[-1])


def test_constructor_checks(fakes):
    cfg = fakes.make_mimic_cfg()
    cfg.subtask_configs["gripper"][-1].subtask_term_offset_range = (0, 2)
    env = fakes.FakeMimicEnv(cfg=cfg)
    with pytest.raises(ValueError, match="last subtask"):
        DataGenerator(env, src_demo_datagen_info_pool=DataGenInfoPool(env, cfg, "cpu"))
    env = fakes.FakeMimicEnv()
    with pytest.raises(ValueError, match="either"):
        DataGenerator(env)
    with pytest.raises(ValueError, match="empty"):
        DataGenerator(env, src_demo_datagen_info_pool=DataGenInfoPool(env, env.cfg, "cpu"))


def test_generator_loads_the_dataset_path(fakes, tmp_path):
    handler = HDF5DatasetFileHandler()
    handler.create(str(tmp_path / "source.hdf5"))
    for episode in fakes.make_source_episodes(3):
        handler.write_episode(episode)
    handler.close()
    generator = DataGenerator(
        fakes.FakeMimicEnv(), dataset_path=str(tmp_path / "source.hdf5"), demo_keys=["demo_0", "demo_2"]
    )
    assert generator.src_demo_datagen_info_pool.num_datagen_infos == 2


def test_subtask_config_without_signal_in_the_middle_is_rejected(fakes):
    cfg = fakes.make_mimic_cfg()
    cfg.subtask_configs["gripper"].insert(1, SubTaskConfig(object_ref="goal", subtask_term_signal=None))
    env = fakes.FakeMimicEnv(cfg=cfg)
    pool = DataGenInfoPool(env, cfg, "cpu")
    # a signal-less subtask ends at the episode end, so the one after it would be empty
    with pytest.raises(ValueError, match="must rise in subtask order"):
        asyncio.run(pool.add_episode(fakes.make_source_episodes(1)[0]))
