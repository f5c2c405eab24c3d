"""A scripted, vectorised expert for the cube-stacking task: pick cube_2 onto cube_1, then cube_3 onto cube_2.

It reads the policy observations and runs one state machine per environment: approach above the cube with the
gripper aligned to it, descend, close, lift, move over the target cube (compensating where the cube sits in the
fingers), descend until the cube almost touches, open, and retreat. A missed grasp, a dropped cube or a stack that
did not hold sends that pick back to its approach.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

import isaaclab.utils.math as math_utils

# phases of one pick-and-place; pick k uses phases k * _NUM_PHASES + phase
APPROACH, DESCEND, CLOSE, LIFT, MOVE, PLACE, RELEASE, RETREAT = range(8)
_NUM_PHASES = 8
_PICKS = ((1, 0), (2, 1))  # (cube to move, cube to put it on), as cube indices
DONE = _NUM_PHASES * len(_PICKS)

_GRIPPER_DOWN = (1.0, 0.0, 0.0, 0.0)


class ScriptedStackExpert:
    """Computes actions for a batch of stacking environments from their policy observations."""

    def __init__(
        self,
        num_envs: int,
        device: str,
        cube_size: float = 0.05,
        pos_scale: float = 0.02,
        rot_scale: float = 0.1,
        max_action_norm: float = 0.5,
        hover_height: float = 0.08,
        carry_height: float = 0.16,
        drop_gap: float = 0.004,
    ) -> None:
        """Create the expert.

        Args:
            num_envs: Number of environments.
            device: Torch device of the observations.
            cube_size: Edge length of the cubes.
            pos_scale: Position delta (m) of a full-scale action.
            rot_scale: Rotation delta (rad) of a full-scale action.
            max_action_norm: Largest norm of the position part of an action (sets the speed).
            hover_height: Height above a cube's centre from which the gripper descends.
            carry_height: TCP height while carrying a cube.
            drop_gap: Gap left under a cube when it is released on the cube below.
        """
        self.num_envs = num_envs
        self.device = device
        self.cube_size = cube_size
        self.pos_scale = pos_scale
        self.rot_scale = rot_scale
        self.max_action_norm = max_action_norm
        self.hover_height = hover_height
        self.carry_height = carry_height
        self.drop_gap = drop_gap
        self.phase = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.phase_steps = torch.zeros(num_envs, dtype=torch.long, device=device)
        self._down = torch.tensor(_GRIPPER_DOWN, device=device)
        self._picks = torch.tensor(_PICKS, device=device)

    @classmethod
    def from_env(cls, env, **kwargs) -> ScriptedStackExpert:
        """An expert matching an environment's cube size and action scales."""
        arm_cfg = env.action_manager.get_term("arm_action").cfg
        return cls(
            env.num_envs,
            env.device,
            cube_size=env.scene.cfg.cube_size,
            pos_scale=arm_cfg.pos_scale,
            rot_scale=arm_cfg.rot_scale,
            **kwargs,
        )

    def reset(self, env_ids: Sequence[int] | torch.Tensor | None = None) -> None:
        """Start the given environments (all by default) from the first phase."""
        ids = slice(None) if env_ids is None else env_ids
        self.phase[ids] = 0
        self.phase_steps[ids] = 0

    def act(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The next action of every environment.

        Args:
            obs: The policy observations (``eef_pos``, ``eef_quat``, ``gripper_pos``, ``cube_positions``,
                ``cube_orientations``).

        Returns:
            Actions, shape (num_envs, 7).
        """
        eef_pos, eef_quat = obs["eef_pos"], obs["eef_quat"]
        cubes = obs["cube_positions"].reshape(self.num_envs, -1, 3)
        cube_quats = obs["cube_orientations"].reshape(self.num_envs, -1, 4)
        opening = obs["gripper_pos"].sum(dim=-1)
        size = self.cube_size

        pick = self.phase.clamp(max=DONE - 1) // _NUM_PHASES
        step = self.phase % _NUM_PHASES
        done = self.phase >= DONE
        env_index = torch.arange(self.num_envs, device=self.device)
        moved = cubes[env_index, self._picks[pick, 0]]
        base = cubes[env_index, self._picks[pick, 1]]
        holding = (opening - size).abs() < 2e-3
        # where the TCP must be for the held cube to sit above the base cube
        cube_in_hand = moved - eef_pos
        place_pos = base - cube_in_hand
        place_pos[:, 2] = base[:, 2] + size + self.drop_gap - cube_in_hand[:, 2]

        target_pos = eef_pos.clone()
        target_pos = _where(step == APPROACH, moved + self._up(self.hover_height), target_pos)
        target_pos = _where(step == DESCEND, moved, target_pos)
        lift = torch.cat((eef_pos[:, :2], torch.full_like(eef_pos[:, 2:], self.carry_height)), dim=-1)
        target_pos = _where((step == LIFT) | (step == RETREAT), lift, target_pos)
        target_pos = _where(step == MOVE, place_pos + self._up(self.hover_height / 2.0), target_pos)
        target_pos = _where(step == PLACE, place_pos, target_pos)
        target_pos = _where(done, eef_pos, target_pos)

        grasp_quat = self._grasp_orientation(eef_quat, cube_quats[env_index, self._picks[pick, 0]])
        aligning = (step == APPROACH) | (step == DESCEND)
        target_quat = torch.where(aligning.unsqueeze(-1), grasp_quat, eef_quat)

        pos_error = target_pos - eef_pos
        rot_error = math_utils.axis_angle_from_quat(
            math_utils.quat_mul(target_quat, math_utils.quat_conjugate(eef_quat))
        )
        closed = (step == CLOSE) | (step == LIFT) | (step == MOVE) | (step == PLACE)
        gripper = torch.where(closed & ~done, -1.0, 1.0).unsqueeze(-1)
        action = torch.cat(
            (
                self._limit(pos_error / self.pos_scale, self.max_action_norm),
                self._limit(rot_error / self.rot_scale, 1.0),
                gripper,
            ),
            dim=-1,
        )

        self._advance(step, pos_error.norm(dim=-1), rot_error.norm(dim=-1), holding, moved, base)
        return action

    def _advance(
        self,
        step: torch.Tensor,
        pos_error: torch.Tensor,
        rot_error: torch.Tensor,
        holding: torch.Tensor,
        moved: torch.Tensor,
        base: torch.Tensor,
    ) -> None:
        """Move each environment's state machine on (or back) after this step's action."""
        reached = pos_error < self.pos_scale * 0.05
        aligned = rot_error < 0.02
        stacked = ((moved - base)[:, :2].norm(dim=-1) < 0.01) & ((moved - base)[:, 2] - self.cube_size).abs().lt(5e-3)
        waited = self.phase_steps >= 4
        advance = torch.zeros_like(reached)
        advance |= (step == APPROACH) & reached & aligned
        advance |= (step == DESCEND) & reached & aligned
        advance |= (step == CLOSE) & waited & holding
        advance |= ((step == LIFT) | (step == MOVE) | (step == PLACE)) & reached & holding
        advance |= (step == RELEASE) & waited
        advance |= (step == RETREAT) & reached & stacked
        # a missed grasp, a dropped cube or a fallen stack restarts the pick
        retry = (step == CLOSE) & waited & ~holding
        retry |= ((step == LIFT) | (step == MOVE) | (step == PLACE)) & ~holding & (self.phase_steps > 0)
        retry |= (step == RETREAT) & reached & ~stacked
        retry &= self.phase < DONE
        advance &= self.phase < DONE
        pick_start = self.phase - step
        new_phase = torch.where(advance, self.phase + 1, torch.where(retry, pick_start, self.phase))
        self.phase_steps = torch.where(
            new_phase == self.phase, self.phase_steps + 1, torch.zeros_like(self.phase_steps)
        )
        self.phase = new_phase

    def _up(self, height: float) -> torch.Tensor:
        return torch.tensor([0.0, 0.0, height], device=self.device)

    def _grasp_orientation(self, eef_quat: torch.Tensor, cube_quat: torch.Tensor) -> torch.Tensor:
        """Fingers down, closing axis along the cube axis nearest to the gripper's current yaw."""
        gripper_yaw = _yaw(eef_quat)
        cube_yaw = _yaw(cube_quat)
        quarter = math.pi / 2.0
        yaw = cube_yaw + torch.round((gripper_yaw - cube_yaw) / quarter) * quarter
        half = yaw / 2.0
        zeros = torch.zeros_like(half)
        yaw_q = torch.stack((zeros, zeros, torch.sin(half), torch.cos(half)), dim=-1)
        return math_utils.quat_mul(yaw_q, self._down.expand_as(yaw_q))

    @staticmethod
    def _limit(vectors: torch.Tensor, max_norm: float) -> torch.Tensor:
        norm = vectors.norm(dim=-1, keepdim=True)
        return vectors * (max_norm / norm.clamp(min=1e-9)).clamp(max=1.0)


def _where(mask: torch.Tensor, value: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.unsqueeze(-1), value.expand_as(other), other)


def _yaw(quat: torch.Tensor) -> torch.Tensor:
    """Heading of each frame's x axis in the world xy plane."""
    x_axis = math_utils.quat_apply(
        quat, torch.tensor([1.0, 0.0, 0.0], device=quat.device).expand(quat.shape[:-1] + (3,))
    )
    return torch.atan2(x_axis[..., 1], x_axis[..., 0])
