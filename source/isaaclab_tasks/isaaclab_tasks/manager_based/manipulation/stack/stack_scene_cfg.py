"""Configuration of the cube-stacking scene."""

from __future__ import annotations

import math

from isaaclab.envs.interactive_scene import InteractiveSceneCfg
from isaaclab.utils import configclass

from .renderer import CameraCfg
from .stack_scene import StackScene


@configclass
class StackSceneCfg(InteractiveSceneCfg):
    """A floating parallel gripper above a table with three cubes. Lengths in meters, angles in radians."""

    class_type: type = StackScene
    num_envs: int = 1
    env_spacing: float = 2.5

    cube_names: tuple[str, ...] = ("cube_1", "cube_2", "cube_3")
    """Names of the cubes (the task stacks cube_2 on cube_1 and cube_3 on cube_2)."""

    cube_size: float = 0.05
    """Edge length of every cube."""

    cube_colors: tuple[tuple[float, float, float], ...] = ((0.15, 0.3, 0.85), (0.85, 0.15, 0.15), (0.15, 0.7, 0.2))
    """RGB colours of the cubes (blue, red, green)."""

    spawn_x_range: tuple[float, float] = (0.35, 0.65)
    """Range of the cubes' x positions at reset."""

    spawn_y_range: tuple[float, float] = (-0.2, 0.2)
    """Range of the cubes' y positions at reset."""

    spawn_yaw_range: tuple[float, float] = (-math.pi / 4.0, math.pi / 4.0)
    """Range of the cubes' yaw angles at reset."""

    min_cube_distance: float = 0.1
    """Least distance between cube centres at reset."""

    max_spawn_attempts: int = 100
    """Rejection-sampling rounds before reset gives up placing the cubes."""

    eef_init_pos: tuple[float, float, float] = (0.5, 0.0, 0.3)
    """Home position of the gripper's tool centre point (TCP)."""

    eef_init_quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    """Home orientation (x, y, z, w) of the TCP: fingers pointing down."""

    workspace_min: tuple[float, float, float] = (0.1, -0.45, 0.025)
    """Lower bounds of the commanded TCP position (the fingertips reach the table at the lowest z)."""

    workspace_max: tuple[float, float, float] = (0.9, 0.45, 0.6)
    """Upper bounds of the commanded TCP position."""

    finger_open_pos: float = 0.04
    """Finger joint position when open (distance of each finger from the TCP)."""

    finger_speed: float = 0.2
    """Finger joint speed (m/s)."""

    grasp_tolerance: tuple[float, float, float] = (0.02, 0.02, 0.02)
    """Largest offset of the cube centre from the TCP, per TCP axis, for a grasp."""

    grasp_align_tolerance_deg: float = 15.0
    """Largest angle between the closing axis and the nearest cube axis for a grasp (degrees)."""

    stack_center_tolerance: float = 0.02
    """Largest horizontal offset between cube centres for a cube to rest on another."""

    gravity: float = 9.81
    """Gravitational acceleration (m/s^2)."""

    finger_size: tuple[float, float, float] = (0.02, 0.01, 0.05)
    """Size of each finger box along the TCP axes (rendering only)."""

    palm_size: tuple[float, float, float] = (0.03, 0.1, 0.02)
    """Size of the palm box along the TCP axes (rendering only)."""

    palm_offset: float = 0.035
    """Distance of the palm centre behind the TCP along its z axis (rendering only)."""

    gripper_color: tuple[float, float, float] = (0.35, 0.35, 0.38)
    """RGB colour of the gripper."""

    table_size: tuple[float, float] = (1.0, 1.2)
    """Size (x, y) of the table top (rendering only; physically the table is unbounded)."""

    table_center: tuple[float, float] = (0.5, 0.0)
    """Centre (x, y) of the table top."""

    cameras: dict[str, CameraCfg] = {}
    """Cameras to render, by name."""
