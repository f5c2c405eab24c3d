"""Tests for waypoints, their sequences and trajectories, and their execution through an env."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
import torch

import isaaclab.utils.math as PoseUtils

from isaaclab_mimic.datagen.waypoint import (
    MultiWaypoint,
    Waypoint,
    WaypointSequence,
    WaypointTrajectory,
    task_succeeded,
)


def translation(x: float, y: float = 0.0, z: float = 0.5) -> torch.Tensor:
    return PoseUtils.make_pose(torch.tensor([x, y, z]), torch.eye(3))


OPEN = torch.tensor([1.0])
CLOSE = torch.tensor([-1.0])


def trajectory_from(*poses: torch.Tensor, noise: float = 0.0) -> WaypointTrajectory:
    trajectory = WaypointTrajectory()
    trajectory.add_waypoint_sequence(WaypointSequence.from_poses(torch.stack(poses), OPEN.expand(len(poses), 1), noise))
    return trajectory


def xs(trajectory: WaypointTrajectory) -> list[float]:
    return [round(float(w.pose[0, 3]), 6) for w in trajectory]


def test_waypoint_validates_shapes():
    with pytest.raises(ValueError, match="4, 4"):
        Waypoint(torch.eye(3), OPEN)
    with pytest.raises(ValueError, match="1-D"):
        Waypoint(torch.eye(4), torch.ones(1, 1))


def test_sequence_from_poses_with_per_step_noise():
    sequence = WaypointSequence.from_poses(
        torch.stack((translation(0), translation(1))), OPEN.expand(2, 1), torch.tensor([0.1, 0.2])
    )
    assert len(sequence) == 2
    assert [w.noise for w in sequence] == pytest.approx([0.1, 0.2])
    assert sequence.last_waypoint.pose[0, 3] == 1.0
    with pytest.raises(ValueError, match="gripper actions"):
        WaypointSequence.from_poses(torch.stack((translation(0),)), OPEN.expand(2, 1), 0.0)


def test_add_sequence_for_target_pose_interpolates_or_repeats():
    trajectory = trajectory_from(translation(0.0))
    trajectory.add_waypoint_sequence_for_target_pose(translation(1.0), CLOSE, num_steps=3, action_noise=0.05)
    # 3 poses strictly between, then the target
    assert xs(trajectory) == [0.0, 0.25, 0.5, 0.75, 1.0]
    new = trajectory.waypoint_sequences[-1]
    assert all(w.gripper_action.item() == -1.0 and w.noise == pytest.approx(0.05) for w in new)
    trajectory.add_waypoint_sequence_for_target_pose(translation(2.0), OPEN, num_steps=2, skip_interpolation=True)
    assert xs(trajectory) == [0.0, 0.25, 0.5, 0.75, 1.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="empty trajectory"):
        WaypointTrajectory().add_waypoint_sequence_for_target_pose(translation(1.0), OPEN, num_steps=1)


def test_merge_bridges_to_the_first_pose_of_the_other_trajectory():
    segment = trajectory_from(translation(1.0), translation(1.5), noise=0.03)
    trajectory = trajectory_from(translation(0.0))
    trajectory.merge(segment, num_steps_interp=1, num_steps_fixed=2, action_noise=0.0)
    # bridge: midpoint, target; hold target twice; then the rest of the segment (its first pose is the target)
    assert xs(trajectory) == [0.0, 0.5, 1.0, 1.0, 1.0, 1.5]
    noises = [w.noise for w in trajectory]
    assert noises[1:5] == [0.0] * 4 and noises[5] == pytest.approx(0.03)
    # the merged trajectory is left intact
    assert len(segment) == 2
    # no bridge: plain concatenation
    plain = trajectory_from(translation(0.0))
    plain.merge(segment)
    assert xs(plain) == [0.0, 1.0, 1.5]


def test_pop_first_and_full_sequence():
    trajectory = trajectory_from(translation(0.0))
    trajectory.add_waypoint_sequence(WaypointSequence.from_poses(translation(1.0).unsqueeze(0), OPEN[None], 0.0))
    first = trajectory.pop_first()
    assert first.pose[0, 3] == 0.0
    assert len(trajectory.waypoint_sequences) == 1
    assert [float(w.pose[0, 3]) for w in trajectory.get_full_sequence()] == [1.0]
    assert trajectory.last_waypoint.pose[0, 3] == 1.0


def test_execute_steps_the_env_once_per_waypoint(fakes):
    env = fakes.FakeMimicEnv(num_envs=1)
    start = env.get_robot_eef_pose("gripper")[0]
    goal = start.clone()
    goal[:3, 3] += torch.tensor([0.1, -0.05, 0.0])
    trajectory = trajectory_from(start, goal)
    results = asyncio.run(trajectory.execute(env, env_id=0, success_term=fakes.success_term))
    assert env.step_count == 2
    assert results["actions"].shape == (2, 7)
    assert results["success"] is False
    # the env tracks the targets exactly (no noise)
    torch.testing.assert_close(env.get_robot_eef_pose("gripper")[0], goal)


def test_execute_without_queue_needs_a_single_env(fakes):
    env = fakes.FakeMimicEnv(num_envs=2)
    trajectory = trajectory_from(env.get_robot_eef_pose("gripper")[0])
    with pytest.raises(ValueError, match="num_envs == 1"):
        asyncio.run(trajectory.execute(env, env_id=0, success_term=fakes.success_term))


def test_multi_waypoint_goes_through_the_action_queue(fakes):
    env = fakes.FakeMimicEnv(num_envs=2)
    pose = env.get_robot_eef_pose("gripper", env_ids=[1])[0]
    pose[0, 3] += 0.1

    async def run():
        queue: asyncio.Queue = asyncio.Queue()
        execution = asyncio.create_task(
            MultiWaypoint({"gripper": Waypoint(pose, CLOSE)}).execute(env, fakes.success_term, 1, queue)
        )
        env_id, action = await queue.get()
        # the task waits for the step
        await asyncio.sleep(0)
        assert not execution.done()
        batch = torch.zeros(2, 7)
        batch[env_id] = action
        env.step(batch)
        queue.task_done()
        return env_id, action, await execution

    env_id, action, results = asyncio.run(run())
    assert env_id == 1
    torch.testing.assert_close(action[:3], torch.tensor([0.1, 0.0, 0.0]))
    assert action[6] == -1.0
    torch.testing.assert_close(results["actions"], action.unsqueeze(0))
    torch.testing.assert_close(env.get_robot_eef_pose("gripper", env_ids=[1])[0], pose)


def test_success_is_evaluated_once_per_env_step_for_all_envs(fakes):
    env = fakes.FakeMimicEnv(num_envs=3)
    calls = []

    def success(env, threshold):
        calls.append(env.step_count)
        return env.eef_pose[:, 0, 3] > threshold

    term = SimpleNamespace(func=success, params={"threshold": 0.05})
    assert [task_succeeded(env, term, i) for i in range(3)] == [False, False, False]
    actions = torch.zeros(3, 7)
    actions[1, 0] = 0.1
    env.step(actions)
    assert [task_succeeded(env, term, i) for i in range(3)] == [False, True, False]
    assert calls == [0, 1]
    # another term is evaluated on its own
    assert task_succeeded(env, SimpleNamespace(func=success, params={"threshold": 0.5}), 1) is False
    # an env without a step counter is evaluated on every call
    counterless = SimpleNamespace(eef_pose=env.eef_pose, step_count=-1)
    task_succeeded(counterless, term, 0)
    task_succeeded(counterless, term, 1)
    assert calls == [0, 1, 1, -1, -1]
