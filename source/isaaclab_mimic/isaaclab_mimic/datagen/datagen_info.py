"""The data-generation view of one source demo: end-effector, target and object poses, signals, gripper actions."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["DatagenInfo"]


@dataclass
class DatagenInfo:
    """Per-step data of one source demo (or one segment of it) that Mimic generates from.

    Every tensor has the time steps as its first dimension. Poses are (T, 4, 4) homogeneous matrices.
    """

    eef_pose: dict[str, torch.Tensor] = field(default_factory=dict)
    """Measured end-effector poses, keyed by end-effector name, each (T, 4, 4)."""

    object_poses: dict[str, torch.Tensor] = field(default_factory=dict)
    """Object poses, keyed by object name, each (T, 4, 4)."""

    subtask_term_signals: dict[str, torch.Tensor] = field(default_factory=dict)
    """Subtask termination signals, keyed by signal name, each (T,) of 0/1."""

    target_eef_pose: dict[str, torch.Tensor] = field(default_factory=dict)
    """Commanded end-effector poses, keyed by end-effector name, each (T, 4, 4)."""

    gripper_action: dict[str, torch.Tensor] = field(default_factory=dict)
    """Gripper actions, keyed by end-effector name, each (T, gripper_dim)."""

    subtask_start_signals: dict[str, torch.Tensor] = field(default_factory=dict)
    """Optional subtask start signals, keyed by signal name, each (T,) of 0/1."""

    @property
    def num_steps(self) -> int:
        """Number of time steps (taken from the first end-effector pose)."""
        return int(next(iter(self.eef_pose.values())).shape[0])

    def segment(self, eef_name: str, object_name: str | None, start: int, end: int) -> DatagenInfo:
        """The steps ``[start, end)`` of one end effector and (optionally) one object.

        Args:
            eef_name: End effector to keep.
            object_name: Object to keep, or ``None`` for none.
            start: First step.
            end: One past the last step.

        Returns:
            A :class:`DatagenInfo` with only that end effector and object, and no signals.
        """
        return DatagenInfo(
            eef_pose={eef_name: self.eef_pose[eef_name][start:end]},
            object_poses={} if object_name is None else {object_name: self.object_poses[object_name][start:end]},
            target_eef_pose={eef_name: self.target_eef_pose[eef_name][start:end]},
            gripper_action={eef_name: self.gripper_action[eef_name][start:end]},
        )
