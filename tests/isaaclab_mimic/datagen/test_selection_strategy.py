"""Tests for the source demo selection strategies and their registry."""

from __future__ import annotations

import math

import pytest
import torch

import isaaclab.utils.math as PoseUtils

from isaaclab_mimic.datagen.datagen_info import DatagenInfo
from isaaclab_mimic.datagen.selection_strategy import (
    REGISTERED_SELECTION_STRATEGIES,
    NearestNeighborObjectStrategy,
    NearestNeighborRobotDistanceStrategy,
    RandomStrategy,
    SelectionStrategy,
    make_selection_strategy,
    register_selection_strategy,
)


def pose(x: float, y: float = 0.0, yaw: float = 0.0) -> torch.Tensor:
    return PoseUtils.make_pose(torch.tensor([x, y, 0.0]), PoseUtils.quat_from_axis_angle(torch.tensor([0.0, 0.0, yaw])))


def segment(object_pose: torch.Tensor, eef_start: torch.Tensor) -> DatagenInfo:
    """A 2-step segment whose object and first eef pose are given."""
    return DatagenInfo(
        eef_pose={"gripper": torch.stack((eef_start, eef_start))},
        object_poses={"cube": torch.stack((object_pose, object_pose))},
        target_eef_pose={"gripper": torch.stack((eef_start, eef_start))},
        gripper_action={"gripper": torch.ones(2, 1)},
    )


def test_registry_names_and_unknown_name():
    assert isinstance(make_selection_strategy("random"), RandomStrategy)
    assert isinstance(make_selection_strategy("nearest_neighbor_object"), NearestNeighborObjectStrategy)
    assert isinstance(make_selection_strategy("nearest_neighbor_robot_distance"), NearestNeighborRobotDistanceStrategy)
    with pytest.raises(ValueError, match="Unknown selection strategy 'closest'.*nearest_neighbor_object"):
        make_selection_strategy("closest")


def test_register_a_custom_strategy_and_reject_duplicates():
    class PickLast(SelectionStrategy):
        NAME = "test_pick_last"

        def select_source_demo(self, eef_pose, object_pose, src_subtask_datagen_infos):
            return len(src_subtask_datagen_infos) - 1

    try:
        register_selection_strategy(PickLast)
        assert make_selection_strategy("test_pick_last").select_source_demo(None, None, [1, 2, 3]) == 2

        class Impostor(PickLast):
            NAME = "test_pick_last"

        with pytest.raises(ValueError, match="already registered"):
            register_selection_strategy(Impostor)
    finally:
        REGISTERED_SELECTION_STRATEGIES.pop("test_pick_last", None)


def test_random_strategy_covers_all_demos_and_follows_the_seed():
    segments = [segment(pose(i), pose(i)) for i in range(4)]
    strategy = RandomStrategy()
    torch.manual_seed(0)
    picks = [strategy.select_source_demo(pose(0), pose(0), segments) for _ in range(200)]
    assert set(picks) == {0, 1, 2, 3}
    torch.manual_seed(0)
    assert [strategy.select_source_demo(pose(0), pose(0), segments) for _ in range(200)] == picks


def test_nearest_neighbor_object_picks_the_nearest_object_pose():
    # object at x = 0, 1, 2, 3 in the source demos; current object at x = 2.1
    segments = [segment(pose(x), pose(0.0)) for x in (0.0, 1.0, 2.0, 3.0)]
    strategy = NearestNeighborObjectStrategy()
    assert strategy.select_source_demo(pose(5.0), pose(2.1), segments, nn_k=1) == 2
    # among the 2 nearest (2 and 3) only
    torch.manual_seed(0)
    picks = {strategy.select_source_demo(pose(5.0), pose(2.1), segments, nn_k=2) for _ in range(50)}
    assert picks == {2, 3}
    # nn_k larger than the pool is clipped
    assert strategy.select_source_demo(pose(5.0), pose(2.1), segments[:1], nn_k=5) == 0


def test_nearest_neighbor_object_weighs_rotation():
    # same position; yaw 0 vs yaw 90 degrees; current object yaw 80 degrees
    segments = [segment(pose(0.0, yaw=0.0), pose(0.0)), segment(pose(0.2, yaw=math.pi / 2), pose(0.0))]
    strategy = NearestNeighborObjectStrategy()
    current = pose(0.0, yaw=math.radians(80))
    assert strategy.select_source_demo(pose(0.0), current, segments, nn_k=1) == 1
    # ignoring rotation, the position decides
    assert strategy.select_source_demo(pose(0.0), current, segments, nn_k=1, rot_weight=0.0) == 0


def test_nearest_neighbor_robot_distance_uses_the_segment_start_in_the_current_object_frame():
    # both demos have the object at the origin; demo 0 starts 1 m from it along x, demo 1 along y
    segments = [segment(pose(0.0), pose(1.0, 0.0)), segment(pose(0.0), pose(0.0, 1.0))]
    strategy = NearestNeighborRobotDistanceStrategy()
    # object now at x = 5 turned 90 degrees: demo 0's start maps to (5, 1), demo 1's to (4, 0)
    object_now = pose(5.0, yaw=math.pi / 2)
    assert strategy.select_source_demo(pose(5.0, 1.0, yaw=math.pi / 2), object_now, segments, nn_k=1) == 0
    assert strategy.select_source_demo(pose(4.0, 0.0, yaw=math.pi / 2), object_now, segments, nn_k=1) == 1
    # the object strategy cannot tell them apart (same object pose), the robot distance can
    assert NearestNeighborObjectStrategy().select_source_demo(pose(4.0), object_now, segments, nn_k=1) == 0


@pytest.mark.parametrize("name", ["nearest_neighbor_object", "nearest_neighbor_robot_distance"])
def test_nearest_neighbor_needs_an_object(name):
    with pytest.raises(ValueError, match="object_ref"):
        make_selection_strategy(name).select_source_demo(pose(0.0), None, [segment(pose(0.0), pose(0.0))])
