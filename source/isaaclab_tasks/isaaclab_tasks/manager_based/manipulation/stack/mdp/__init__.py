"""Action, observation and termination terms of the cube-stacking task."""

from .actions import BinaryGripperAction, BinaryGripperActionCfg, RelativeEefPoseAction, RelativeEefPoseActionCfg
from .observations import (
    cube_orientations,
    cube_positions,
    ee_frame_pos,
    ee_frame_quat,
    gripper_pos,
    image,
    last_action,
    object_grasped,
    object_obs,
    object_stacked,
)
from .terminations import cubes_stacked, time_out

__all__ = [
    "BinaryGripperAction",
    "BinaryGripperActionCfg",
    "RelativeEefPoseAction",
    "RelativeEefPoseActionCfg",
    "cube_orientations",
    "cube_positions",
    "cubes_stacked",
    "ee_frame_pos",
    "ee_frame_quat",
    "gripper_pos",
    "image",
    "last_action",
    "object_grasped",
    "object_obs",
    "object_stacked",
    "time_out",
]
