"""The cube-stacking scene: a floating parallel gripper, a table and cubes, simulated in torch.

Rules (all vectorised over environments):

* The gripper's tool centre point (TCP) follows its commanded pose exactly (an ideal pose controller; the position
  is clamped to the workspace). The TCP frame's z axis points from the palm to the fingertips and the fingers close
  along its y axis; the fingers move at a bounded speed.
* A cube is grasped when the fingers close through the cube's width while the cube centre is within the grasp
  tolerance of the TCP and the closing axis is aligned with a cube axis. A held cube moves rigidly with the gripper
  (centred between the fingers), and the fingers stop on it.
* Opening the gripper releases the cube: it turns flat (its most vertical axis becomes vertical) and falls under
  gravity onto the table, or onto a cube below it if its centre is within ``stack_center_tolerance`` of that cube's
  centre. A cube that overlaps the cube below without being well centred tips off it and falls to the table.
* The gripper does not collide with cubes; cubes resting on a cube that gets grasped fall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

import isaaclab.utils.math as math_utils
from isaaclab.envs.interactive_scene import InteractiveScene, SceneState

from .renderer import focal_length, look_at_rotation, pixel_rays, render_background, render_boxes

if TYPE_CHECKING:
    from .renderer import CameraCfg
    from .stack_scene_cfg import StackSceneCfg

_REST_EPS = 1e-6


class StackScene(InteractiveScene):
    """State and physics of the cube-stacking scene for ``num_envs`` environments.

    Positions are in each environment's frame (the table top is z = 0). Quaternions are (x, y, z, w).
    """

    cfg: StackSceneCfg

    def __init__(self, cfg: StackSceneCfg, device: str) -> None:
        """Allocate the state buffers and prepare the cameras.

        Args:
            cfg: The scene configuration.
            device: The torch device of every buffer.
        """
        super().__init__(cfg, device)
        n, c = cfg.num_envs, len(cfg.cube_names)
        self.num_cubes = c
        self.cube_size = cfg.cube_size
        zeros = dict(device=device)
        self.eef_pos = torch.zeros(n, 3, **zeros)
        self.eef_quat = torch.zeros(n, 4, **zeros)
        self.eef_lin_vel = torch.zeros(n, 3, **zeros)
        self.eef_ang_vel = torch.zeros(n, 3, **zeros)
        self.finger_pos = torch.zeros(n, 2, **zeros)
        self.finger_vel = torch.zeros(n, 2, **zeros)
        self.cube_pos = torch.zeros(n, c, 3, **zeros)
        self.cube_quat = torch.zeros(n, c, 4, **zeros)
        self.cube_lin_vel = torch.zeros(n, c, 3, **zeros)
        self.cube_ang_vel = torch.zeros(n, c, 3, **zeros)
        self.held = torch.full((n,), -1, dtype=torch.long, device=device)
        """Index of the cube each gripper holds (-1: none)."""
        self.held_pos_offset = torch.zeros(n, 3, **zeros)
        self.held_quat_offset = torch.zeros(n, 4, **zeros)
        self.eef_target_pos = torch.zeros(n, 3, **zeros)
        self.eef_target_quat = torch.zeros(n, 4, **zeros)
        self.finger_target = torch.zeros(n, 2, **zeros)
        self.settling = torch.zeros(n, dtype=torch.bool, device=device)
        """Whether some free cube of each environment may be out of its rest position."""
        # whether every finger pair sits at its target (then a physics step leaves the fingers in place)
        self._fingers_at_target = False

        self._env_index = torch.arange(n, device=device)
        self._cube_index = torch.arange(c, device=device)
        self._init_eef_pos = torch.tensor(cfg.eef_init_pos, **zeros)
        self._init_eef_quat = torch.tensor(cfg.eef_init_quat, **zeros)
        self._workspace_min = torch.tensor(cfg.workspace_min, **zeros)
        self._workspace_max = torch.tensor(cfg.workspace_max, **zeros)
        self._grasp_tolerance = torch.tensor(cfg.grasp_tolerance, **zeros)
        self._grasp_align_cos = math.cos(math.radians(cfg.grasp_align_tolerance_deg))
        self._closing_axis = torch.tensor([0.0, 1.0, 0.0], **zeros)
        self._box_half_extents, self._box_colors = self._box_geometry()
        self._camera_rays = {name: pixel_rays(cam, device) for name, cam in cfg.cameras.items()}
        self._fixed_camera_poses = {
            name: self._fixed_camera_pose(cam) for name, cam in cfg.cameras.items() if not cam.attach_to_eef
        }
        self._static_backgrounds: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def cube_index(self, name: str) -> int:
        """Index of a cube from its name.

        Raises:
            KeyError: If there is no cube of that name.
        """
        if name not in self.cfg.cube_names:
            raise KeyError(f"Unknown cube '{name}'. Cubes: {list(self.cfg.cube_names)}.")
        return list(self.cfg.cube_names).index(name)

    """
    Commands.
    """

    def set_eef_target(self, pos: torch.Tensor, quat: torch.Tensor) -> None:
        """Command the TCP pose (position clamped to the workspace)."""
        self.eef_target_pos[:] = torch.max(torch.min(pos, self._workspace_max), self._workspace_min)
        self.eef_target_quat[:] = math_utils.normalize(quat)

    def set_finger_targets(self, finger_pos: torch.Tensor) -> None:
        """Command the finger joint positions (each finger's distance from the TCP), shape (num_envs, 2)."""
        targets = finger_pos.clamp(0.0, self.cfg.finger_open_pos)
        if not torch.equal(targets, self.finger_target):
            self.finger_target[:] = targets
            self._fingers_at_target = False

    """
    InteractiveScene interface.
    """

    def reset(self, env_ids: torch.Tensor) -> None:
        """Put the gripper at its home pose, open, and place the cubes at random without overlap."""
        k = len(env_ids)
        self.eef_pos[env_ids] = self._init_eef_pos
        self.eef_quat[env_ids] = self._init_eef_quat
        self.eef_lin_vel[env_ids] = 0.0
        self.eef_ang_vel[env_ids] = 0.0
        self.finger_pos[env_ids] = self.cfg.finger_open_pos
        self.finger_vel[env_ids] = 0.0
        self.eef_target_pos[env_ids] = self._init_eef_pos
        self.eef_target_quat[env_ids] = self._init_eef_quat
        self.finger_target[env_ids] = self.cfg.finger_open_pos
        self.held[env_ids] = -1
        xy = self._sample_cube_xy(k)
        yaw = self._uniform((k, self.num_cubes), self.cfg.spawn_yaw_range)
        z = torch.full((k, self.num_cubes, 1), self.cube_size / 2.0, device=self.device)
        self.cube_pos[env_ids] = torch.cat((xy, z), dim=-1)
        self.cube_quat[env_ids] = yaw_quat(yaw)
        self.cube_lin_vel[env_ids] = 0.0
        self.cube_ang_vel[env_ids] = 0.0
        self.settling[env_ids] = False
        self._fingers_at_target = False

    def step(self, dt: float) -> None:
        """Advance the gripper, the grasp logic, the held cube and the falling cubes by ``dt`` seconds."""
        self._move_eef(dt)
        self._move_fingers(dt)
        self._carry_held_cube(dt)
        if self.settling.any():
            self._settle_cubes(dt)

    def get_state(self, is_relative: bool = False) -> SceneState:
        """The state of the robot (gripper) and the cubes.

        Returns:
            ``{"articulation": {"robot": {root_pose, root_velocity, joint_position, joint_velocity}},
            "rigid_object": {<cube>: {root_pose, root_velocity}}}``; root poses are position + quaternion (x, y, z, w).
        """
        offset = 0.0 if is_relative else self.env_origins
        robot = {
            "root_pose": torch.cat((self.eef_pos + offset, self.eef_quat), dim=-1),
            "root_velocity": torch.cat((self.eef_lin_vel, self.eef_ang_vel), dim=-1),
            "joint_position": self.finger_pos.clone(),
            "joint_velocity": self.finger_vel.clone(),
        }
        cubes = {}
        for index, name in enumerate(self.cfg.cube_names):
            cubes[name] = {
                "root_pose": torch.cat((self.cube_pos[:, index] + offset, self.cube_quat[:, index]), dim=-1),
                "root_velocity": torch.cat((self.cube_lin_vel[:, index], self.cube_ang_vel[:, index]), dim=-1),
            }
        return {"articulation": {"robot": robot}, "rigid_object": cubes}

    def reset_to(
        self, state: SceneState, env_ids: Sequence[int] | torch.Tensor | None = None, is_relative: bool = False
    ) -> None:
        """Set the state of the given environments; a cube between closed fingers at the TCP counts as held.

        Args:
            state: Nested state as returned by :meth:`get_state`, one row per id.
            env_ids: The environments to set (None: all).
            is_relative: Whether positions in ``state`` are relative to the environment origins.
        """
        ids = self._env_index if env_ids is None else torch.as_tensor(env_ids, device=self.device).reshape(-1)
        offset = 0.0 if is_relative else self.env_origins[ids]
        robot = state["articulation"]["robot"]
        root_pose = robot["root_pose"].to(self.device)
        self.eef_pos[ids] = root_pose[:, :3] - offset
        self.eef_quat[ids] = root_pose[:, 3:7]
        self.eef_lin_vel[ids] = robot["root_velocity"][:, :3].to(self.device)
        self.eef_ang_vel[ids] = robot["root_velocity"][:, 3:6].to(self.device)
        self.finger_pos[ids] = robot["joint_position"].to(self.device)
        self.finger_vel[ids] = robot["joint_velocity"].to(self.device)
        self.eef_target_pos[ids] = self.eef_pos[ids]
        self.eef_target_quat[ids] = self.eef_quat[ids]
        self.finger_target[ids] = self.finger_pos[ids]
        for index, name in enumerate(self.cfg.cube_names):
            cube = state["rigid_object"][name]
            cube_pose = cube["root_pose"].to(self.device)
            self.cube_pos[ids, index] = cube_pose[:, :3] - offset
            self.cube_quat[ids, index] = cube_pose[:, 3:7]
            self.cube_lin_vel[ids, index] = cube["root_velocity"][:, :3].to(self.device)
            self.cube_ang_vel[ids, index] = cube["root_velocity"][:, 3:6].to(self.device)
        self._infer_held(ids)
        self.settling[ids] = True
        self._fingers_at_target = False

    def render(self, camera_name: str) -> torch.Tensor:
        """Render a configured camera in every environment.

        Returns:
            RGB images, shape (num_envs, height, width, 3), dtype uint8.
        """
        cam = self.cfg.cameras[camera_name]
        rays = self._camera_rays[camera_name]
        if cam.attach_to_eef:
            cam_rot = math_utils.matrix_from_quat(self.eef_quat)
            cam_pos = self.eef_pos + math_utils.quat_apply(self.eef_quat, torch.tensor(cam.pos, device=self.device))
            background = self._background(cam_pos, cam_rot, rays)
        else:
            cam_pos, cam_rot = self._fixed_camera_poses[camera_name]
            if camera_name not in self._static_backgrounds:
                self._static_backgrounds[camera_name] = self._background(cam_pos[:1], cam_rot[:1], rays)
            background = self._static_backgrounds[camera_name]
        box_pos, box_rot = self._box_poses()
        return render_boxes(
            cam_pos,
            cam_rot,
            rays,
            focal_length(cam),
            cam.height,
            cam.width,
            box_pos,
            box_rot,
            self._box_half_extents,
            self._box_colors,
            *background,
        )

    """
    Physics.
    """

    def _move_eef(self, dt: float) -> None:
        rot_step = math_utils.axis_angle_from_quat(
            math_utils.quat_mul(self.eef_target_quat, math_utils.quat_conjugate(self.eef_quat))
        )
        self.eef_lin_vel = (self.eef_target_pos - self.eef_pos) / dt
        self.eef_ang_vel = rot_step / dt
        self.eef_pos = self.eef_target_pos.clone()
        self.eef_quat = self.eef_target_quat.clone()

    def _move_fingers(self, dt: float) -> None:
        if self._fingers_at_target:
            self.finger_vel.zero_()
            return
        half_size = self.cube_size / 2.0
        prev_opening = self.finger_pos.sum(dim=-1)
        max_step = self.cfg.finger_speed * dt
        new_fingers = self.finger_pos + (self.finger_target - self.finger_pos).clamp(-max_step, max_step)
        holding = self.held >= 0
        new_fingers = torch.where(holding.unsqueeze(-1), new_fingers.clamp(min=half_size), new_fingers)

        releasing = holding & (self.finger_target.sum(dim=-1) > self.cube_size)
        if releasing.any():
            self._release(releasing)
        crossing = ~holding & (prev_opening >= self.cube_size) & (new_fingers.sum(dim=-1) < self.cube_size)
        if crossing.any():
            grasped = self._try_grasp(crossing)
            new_fingers = torch.where(grasped.unsqueeze(-1), torch.full_like(new_fingers, half_size), new_fingers)
        self.finger_vel = (new_fingers - self.finger_pos) / dt
        self.finger_pos = new_fingers
        # fingers stopped on a held cube are at rest too; nothing changes until the target does
        self._fingers_at_target = bool((self.finger_vel == 0.0).all())

    def _grasp_candidates(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Which cubes each gripper could hold now, and each cube's centre in the TCP frame.

        Returns:
            Candidate flags (num_envs, num_cubes) and cube centres in the TCP frame (num_envs, num_cubes, 3).
        """
        eef_quat = self.eef_quat.unsqueeze(1).expand(-1, self.num_cubes, -1)
        rel_local = math_utils.quat_apply(
            math_utils.quat_conjugate(eef_quat), self.cube_pos - self.eef_pos.unsqueeze(1)
        )
        near = (rel_local.abs() <= self._grasp_tolerance).all(dim=-1)
        closing_axis = math_utils.quat_apply(eef_quat, self._closing_axis.expand_as(rel_local))
        axis_in_cube = math_utils.quat_apply(math_utils.quat_conjugate(self.cube_quat), closing_axis)
        aligned = axis_in_cube.abs().amax(dim=-1) >= self._grasp_align_cos
        return near & aligned, rel_local

    def _try_grasp(self, closing: torch.Tensor) -> torch.Tensor:
        """Grasp the nearest candidate cube in the environments whose fingers close through a cube's width.

        Returns:
            Which environments grasped a cube, shape (num_envs,).
        """
        candidates, rel_local = self._grasp_candidates()
        candidates &= closing.unsqueeze(-1)
        distance = rel_local.norm(dim=-1).masked_fill(~candidates, math.inf)
        chosen = distance.argmin(dim=-1)
        grasped = candidates.any(dim=-1)
        offset = rel_local[self._env_index, chosen].clone()
        offset[:, 1] = 0.0  # the closing fingers centre the cube between them
        quat_offset = math_utils.quat_mul(
            math_utils.quat_conjugate(self.eef_quat), self.cube_quat[self._env_index, chosen]
        )
        self.held = torch.where(grasped, chosen, self.held)
        self.held_pos_offset = torch.where(grasped.unsqueeze(-1), offset, self.held_pos_offset)
        self.held_quat_offset = torch.where(grasped.unsqueeze(-1), quat_offset, self.held_quat_offset)
        self.settling |= grasped
        return grasped

    def _infer_held(self, env_ids: torch.Tensor) -> None:
        """Mark as held the cube between closed fingers at the TCP, keeping its current relative pose."""
        candidates, rel_local = self._grasp_candidates()
        closed_on_cube = ((self.finger_pos - self.cube_size / 2.0).abs() < 1e-4).all(dim=-1)
        candidates &= closed_on_cube.unsqueeze(-1)
        chosen = rel_local.norm(dim=-1).masked_fill(~candidates, math.inf).argmin(dim=-1)
        held = torch.where(candidates.any(dim=-1), chosen, torch.full_like(chosen, -1))
        self.held[env_ids] = held[env_ids]
        self.held_pos_offset[env_ids] = rel_local[env_ids, chosen[env_ids]]
        self.held_quat_offset[env_ids] = math_utils.quat_mul(
            math_utils.quat_conjugate(self.eef_quat[env_ids]), self.cube_quat[env_ids, chosen[env_ids]]
        )

    def _release(self, releasing: torch.Tensor) -> None:
        """Let go of the held cube: it turns flat and starts falling."""
        env_ids = releasing.nonzero(as_tuple=False).squeeze(-1)
        cube_ids = self.held[env_ids]
        self.cube_quat[env_ids, cube_ids] = flatten_quat(self.cube_quat[env_ids, cube_ids])
        lin_vel = self.cube_lin_vel[env_ids, cube_ids]
        lin_vel[:, :2] = 0.0
        lin_vel[:, 2] = lin_vel[:, 2].clamp(max=0.0)
        self.cube_lin_vel[env_ids, cube_ids] = lin_vel
        self.cube_ang_vel[env_ids, cube_ids] = 0.0
        self.held[env_ids] = -1
        self.settling[env_ids] = True

    def _carry_held_cube(self, dt: float) -> None:
        holding = self.held.unsqueeze(-1) == self._cube_index  # (N, C), all false where nothing is held
        if not holding.any():
            return
        new_pos = (self.eef_pos + math_utils.quat_apply(self.eef_quat, self.held_pos_offset)).unsqueeze(1)
        new_quat = math_utils.quat_mul(self.eef_quat, self.held_quat_offset).unsqueeze(1)
        mask = holding.unsqueeze(-1)
        self.cube_lin_vel = torch.where(mask, (new_pos - self.cube_pos) / dt, self.cube_lin_vel)
        self.cube_ang_vel = torch.where(mask, self.eef_ang_vel.unsqueeze(1), self.cube_ang_vel)
        self.cube_pos = torch.where(mask, new_pos, self.cube_pos)
        self.cube_quat = torch.where(mask, new_quat, self.cube_quat)

    def _settle_cubes(self, dt: float) -> None:
        """Tip badly placed cubes off the cube below, then let free cubes fall onto their support."""
        size = self.cube_size
        free = self.held.unsqueeze(-1) != self._cube_index  # (N, C)
        # pair (i, j): cube i is free, cube j is a different free cube whose centre is below cube i's bottom half
        z = self.cube_pos[..., 2]
        pairs = (
            free.unsqueeze(-1) & free.unsqueeze(-2) & ~torch.eye(self.num_cubes, dtype=torch.bool, device=self.device)
        )
        pairs &= z.unsqueeze(-1) - z.unsqueeze(-2) > size / 2.0
        diff = self.cube_pos[..., :2].unsqueeze(2) - self.cube_pos[..., :2].unsqueeze(1)  # (N, C, C, 2): i - j
        distance = diff.norm(dim=-1)
        tipping = pairs & (distance < size) & (distance >= self.cfg.stack_center_tolerance)
        if tipping.any():
            # push clear of the lower cube whatever the two yaws (footprints are at most size * sqrt(2) wide)
            push = diff / distance.clamp(min=1e-9).unsqueeze(-1) * (size * math.sqrt(2.0) - distance).unsqueeze(-1)
            self.cube_pos[..., :2] += (push * tipping.unsqueeze(-1)).sum(dim=2)
            diff = self.cube_pos[..., :2].unsqueeze(2) - self.cube_pos[..., :2].unsqueeze(1)
            distance = diff.norm(dim=-1)
        resting_on = pairs & (distance < self.cfg.stack_center_tolerance)
        support_z = torch.where(resting_on, z.unsqueeze(1) + size, torch.full_like(distance, size / 2.0))
        rest_z = support_z.amax(dim=-1).clamp(min=size / 2.0)

        above = free & (z > rest_z + _REST_EPS)
        fall_vel = torch.where(above, self.cube_lin_vel[..., 2] - self.cfg.gravity * dt, torch.zeros_like(z))
        new_z = torch.where(free, torch.max(z + fall_vel * dt, rest_z), z)
        landed = free & (new_z <= rest_z + _REST_EPS)
        fall_vel = torch.where(landed, torch.zeros_like(fall_vel), fall_vel)
        self.cube_pos[..., 2] = new_z
        free_mask = free.unsqueeze(-1)
        fall = torch.stack((torch.zeros_like(fall_vel), torch.zeros_like(fall_vel), fall_vel), dim=-1)
        self.cube_lin_vel = torch.where(free_mask, fall, self.cube_lin_vel)
        self.cube_ang_vel = torch.where(free_mask, torch.zeros_like(self.cube_ang_vel), self.cube_ang_vel)
        self.settling = (free & ~landed).any(dim=-1)

    """
    Helpers.
    """

    def _uniform(self, shape: tuple[int, ...], bounds: tuple[float, float]) -> torch.Tensor:
        low, high = bounds
        return low + (high - low) * torch.rand(shape, generator=self.generator, device=self.device)

    def _sample_cube_xy(self, num: int) -> torch.Tensor:
        """Cube positions on the table, at least ``min_cube_distance`` apart (rejection sampling per env).

        Raises:
            RuntimeError: If no placement is found (the spawn area is too small for the cubes).
        """
        shape = (num, self.num_cubes)
        xy = torch.stack(
            (self._uniform(shape, self.cfg.spawn_x_range), self._uniform(shape, self.cfg.spawn_y_range)), -1
        )
        off_diagonal = ~torch.eye(self.num_cubes, dtype=torch.bool, device=self.device)
        for _ in range(self.cfg.max_spawn_attempts):
            too_close = ((torch.cdist(xy, xy) < self.cfg.min_cube_distance) & off_diagonal).any(dim=-1).any(dim=-1)
            if not too_close.any():
                return xy
            retry = (int(too_close.sum()), self.num_cubes)
            xy[too_close] = torch.stack(
                (self._uniform(retry, self.cfg.spawn_x_range), self._uniform(retry, self.cfg.spawn_y_range)), -1
            )
        raise RuntimeError(
            f"Could not place {self.num_cubes} cubes {self.cfg.min_cube_distance} m apart in the spawn area after"
            f" {self.cfg.max_spawn_attempts} attempts; enlarge spawn_x_range / spawn_y_range."
        )

    def _fixed_camera_pose(self, cam: CameraCfg) -> tuple[torch.Tensor, torch.Tensor]:
        """Positions (N, 3) and camera-to-world rotations (N, 3, 3) of a camera fixed in every environment."""
        eye = torch.tensor(cam.pos, device=self.device)
        rotation = look_at_rotation(eye, torch.tensor(cam.look_at, device=self.device))
        return eye.expand(self.num_envs, 3), rotation.expand(self.num_envs, 3, 3)

    def _background(
        self, cam_pos: torch.Tensor, cam_rot: torch.Tensor, rays: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        half_extents = (self.cfg.table_size[0] / 2.0, self.cfg.table_size[1] / 2.0)
        return render_background(cam_pos, cam_rot, rays, self.cfg.table_center, half_extents)

    def _box_geometry(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Half extents and colours of the rendered boxes: the cubes, then the two fingers and the palm."""
        cfg = self.cfg
        half_cube = [cfg.cube_size / 2.0] * 3
        half_extents = [half_cube] * self.num_cubes + [[s / 2.0 for s in cfg.finger_size]] * 2
        half_extents.append([s / 2.0 for s in cfg.palm_size])
        colors = list(cfg.cube_colors) + [cfg.gripper_color] * 3
        device = self.device
        return torch.tensor(half_extents, device=device), torch.tensor(colors, device=device)

    def _box_poses(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Centres (N, B, 3) and rotations (N, B, 3, 3) of the rendered boxes."""
        finger_y = self.finger_pos + self.cfg.finger_size[1] / 2.0
        zeros = torch.zeros_like(finger_y[:, 0])
        finger_offsets = torch.stack(
            (
                torch.stack((zeros, finger_y[:, 0], zeros), dim=-1),
                torch.stack((zeros, -finger_y[:, 1], zeros), dim=-1),
                torch.stack((zeros, zeros, zeros - self.cfg.palm_offset), dim=-1),
            ),
            dim=1,
        )
        eef_quat = self.eef_quat.unsqueeze(1).expand(-1, 3, -1)
        gripper_pos = self.eef_pos.unsqueeze(1) + math_utils.quat_apply(eef_quat, finger_offsets)
        box_pos = torch.cat((self.cube_pos, gripper_pos), dim=1)
        box_rot = math_utils.matrix_from_quat(torch.cat((self.cube_quat, eef_quat), dim=1))
        return box_pos, box_rot


def yaw_quat(yaw: torch.Tensor) -> torch.Tensor:
    """Quaternions (x, y, z, w) of rotations about the world z axis, shape (..., 4)."""
    half = yaw / 2.0
    zeros = torch.zeros_like(half)
    return torch.stack((zeros, zeros, torch.sin(half), torch.cos(half)), dim=-1)


def flatten_quat(quat: torch.Tensor) -> torch.Tensor:
    """Rotate each orientation minimally so that its most vertical axis becomes exactly vertical.

    Args:
        quat: Orientations (x, y, z, w), shape (K, 4).

    Returns:
        Orientations that only differ by a rotation about the world z axis from some face-down pose, shape (K, 4).
    """
    rot = math_utils.matrix_from_quat(quat)
    vertical = rot[:, 2, :]  # z component of each body axis
    axis_index = vertical.abs().argmax(dim=-1)
    body_axis = rot[torch.arange(len(quat), device=quat.device), :, axis_index]
    body_axis = body_axis * torch.sign(vertical.gather(-1, axis_index.unsqueeze(-1)))
    up = torch.tensor([0.0, 0.0, 1.0], device=quat.device).expand_as(body_axis)
    rotvec_dir = torch.linalg.cross(body_axis, up)
    sin_angle = rotvec_dir.norm(dim=-1, keepdim=True)
    angle = torch.atan2(sin_angle, (body_axis * up).sum(dim=-1, keepdim=True))
    rotvec = rotvec_dir / sin_angle.clamp(min=1e-9) * angle
    return math_utils.normalize(math_utils.quat_mul(math_utils.quat_from_axis_angle(rotvec), quat))
