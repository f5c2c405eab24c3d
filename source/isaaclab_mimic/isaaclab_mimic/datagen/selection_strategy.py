"""Strategies that pick which source demo segment to replay for a subtask, and their registry."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch

import isaaclab.utils.math as PoseUtils

from .datagen_info import DatagenInfo

__all__ = [
    "REGISTERED_SELECTION_STRATEGIES",
    "NearestNeighborObjectStrategy",
    "NearestNeighborRobotDistanceStrategy",
    "RandomStrategy",
    "SelectionStrategy",
    "make_selection_strategy",
    "register_selection_strategy",
]

REGISTERED_SELECTION_STRATEGIES: dict[str, type[SelectionStrategy]] = {}
"""Selection strategy classes by name."""


def register_selection_strategy(cls: type[SelectionStrategy]) -> type[SelectionStrategy]:
    """Register a selection strategy class under its ``NAME`` (usable as a class decorator).

    Raises:
        ValueError: If another class is already registered under that name.
    """
    existing = REGISTERED_SELECTION_STRATEGIES.get(cls.NAME)
    if existing is not None and existing is not cls:
        raise ValueError(f"A selection strategy named '{cls.NAME}' is already registered ({existing.__name__}).")
    REGISTERED_SELECTION_STRATEGIES[cls.NAME] = cls
    return cls


def make_selection_strategy(name: str, *args: Any, **kwargs: Any) -> SelectionStrategy:
    """Build the registered selection strategy with the given name.

    Raises:
        ValueError: If no strategy has that name.
    """
    if name not in REGISTERED_SELECTION_STRATEGIES:
        raise ValueError(
            f"Unknown selection strategy '{name}'. Registered strategies: {sorted(REGISTERED_SELECTION_STRATEGIES)}."
        )
    return REGISTERED_SELECTION_STRATEGIES[name](*args, **kwargs)


class SelectionStrategy(abc.ABC):
    """Picks a source demo segment for a subtask from the current robot and object state."""

    NAME: ClassVar[str]
    """Name the strategy is registered under."""

    @abc.abstractmethod
    def select_source_demo(
        self,
        eef_pose: torch.Tensor,
        object_pose: torch.Tensor | None,
        src_subtask_datagen_infos: list[DatagenInfo],
        **kwargs: Any,
    ) -> int:
        """Pick a source segment.

        Args:
            eef_pose: Current end-effector pose, (4, 4).
            object_pose: Current pose of the subtask's reference object, (4, 4), or ``None``.
            src_subtask_datagen_infos: One segment per source demo (see :meth:`DatagenInfo.segment`), each with a
                single end effector and at most one object.
            **kwargs: Strategy parameters (``SubTaskConfig.selection_strategy_kwargs``).

        Returns:
            Index of the chosen segment.
        """


@register_selection_strategy
class RandomStrategy(SelectionStrategy):
    """Picks a source segment uniformly at random."""

    NAME = "random"

    def select_source_demo(
        self,
        eef_pose: torch.Tensor,
        object_pose: torch.Tensor | None,
        src_subtask_datagen_infos: list[DatagenInfo],
    ) -> int:
        """Pick a segment uniformly at random (torch's global generator)."""
        return int(torch.randint(0, len(src_subtask_datagen_infos), (1,)).item())


class _NearestNeighborStrategy(SelectionStrategy):
    """Picks uniformly among the ``nn_k`` segments nearest to the current state under a pose distance."""

    def select_source_demo(
        self,
        eef_pose: torch.Tensor,
        object_pose: torch.Tensor | None,
        src_subtask_datagen_infos: list[DatagenInfo],
        pos_weight: float = 1.0,
        rot_weight: float = 1.0,
        nn_k: int = 3,
    ) -> int:
        """Pick one of the ``nn_k`` nearest segments at random.

        Args:
            eef_pose: Current end-effector pose, (4, 4).
            object_pose: Current pose of the subtask's reference object, (4, 4).
            src_subtask_datagen_infos: One segment per source demo.
            pos_weight: Weight of the position distance (meters).
            rot_weight: Weight of the rotation distance (radians).
            nn_k: Number of nearest segments to pick from.

        Raises:
            ValueError: If the subtask has no reference object.
        """
        if object_pose is None:
            raise ValueError(f"Selection strategy '{self.NAME}' needs a subtask with an object_ref.")
        src_poses, current_pose = self._poses_to_compare(eef_pose, object_pose, src_subtask_datagen_infos)
        distances = pos_weight * _position_distance(src_poses, current_pose) + rot_weight * _rotation_distance(
            src_poses, current_pose
        )
        k = max(1, min(nn_k, len(src_subtask_datagen_infos)))
        nearest = torch.argsort(distances, stable=True)[:k]
        return int(nearest[torch.randint(0, k, (1,)).item()].item())

    @abc.abstractmethod
    def _poses_to_compare(
        self, eef_pose: torch.Tensor, object_pose: torch.Tensor, src_subtask_datagen_infos: list[DatagenInfo]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The source poses (N, 4, 4) and the current pose (4, 4) whose distances rank the segments."""


@register_selection_strategy
class NearestNeighborObjectStrategy(_NearestNeighborStrategy):
    """Picks among the segments whose object pose at the segment start is nearest to the current object pose."""

    NAME = "nearest_neighbor_object"

    def _poses_to_compare(
        self, eef_pose: torch.Tensor, object_pose: torch.Tensor, src_subtask_datagen_infos: list[DatagenInfo]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.stack([_start_object_pose(info) for info in src_subtask_datagen_infos]), object_pose


@register_selection_strategy
class NearestNeighborRobotDistanceStrategy(_NearestNeighborStrategy):
    """Picks among the segments whose start, moved into the current object frame, is nearest to the current eef pose.

    That is the segment the robot needs the least motion to reach.
    """

    NAME = "nearest_neighbor_robot_distance"

    def _poses_to_compare(
        self, eef_pose: torch.Tensor, object_pose: torch.Tensor, src_subtask_datagen_infos: list[DatagenInfo]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        src_object_poses = torch.stack([_start_object_pose(info) for info in src_subtask_datagen_infos])
        src_eef_poses = torch.stack([_only_value(info.eef_pose)[0] for info in src_subtask_datagen_infos])
        # the segment start relative to its object, attached to the current object pose
        src_eef_in_object = PoseUtils.pose_in_A_to_pose_in_B(src_eef_poses, PoseUtils.pose_inv(src_object_poses))
        return PoseUtils.pose_in_A_to_pose_in_B(src_eef_in_object, object_pose), eef_pose


def _only_value(entries: dict[str, torch.Tensor]) -> torch.Tensor:
    if len(entries) != 1:
        raise ValueError(f"Expected a segment with exactly one entry, got {sorted(entries)}.")
    return next(iter(entries.values()))


def _start_object_pose(info: DatagenInfo) -> torch.Tensor:
    return _only_value(info.object_poses)[0]


def _position_distance(poses: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between the positions of poses (N, 4, 4) and a pose (4, 4), shape (N,)."""
    return (poses[:, :3, 3] - pose[:3, 3]).norm(dim=-1)


def _rotation_distance(poses: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """Angle (radians) of the relative rotation between poses (N, 4, 4) and a pose (4, 4), shape (N,)."""
    delta = poses[:, :3, :3] @ pose[:3, :3].transpose(0, 1)
    cos_angle = ((torch.diagonal(delta, dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)
    return torch.acos(cos_angle)
