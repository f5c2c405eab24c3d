"""Action terms: a relative end-effector pose command and a binary gripper command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

import isaaclab.utils.math as math_utils
from isaaclab.envs.action_manager import ActionTerm, ActionTermCfg
from isaaclab.utils import configclass

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv


class RelativeEefPoseAction(ActionTerm):
    """Six numbers in [-1, 1] (clipped): a position delta and a rotation delta (axis-angle, world axes).

    The processed action is the scaled delta. The commanded pose moves from the TCP pose at the start of the step by
    an equal share of the delta at every physics substep (rotation applied on the left), reaching
    ``p + dp, R(rotvec) @ R`` at the end of the step.
    """

    cfg: RelativeEefPoseActionCfg

    def __init__(self, cfg: RelativeEefPoseActionCfg, env: ManagerBasedRLEnv) -> None:
        """Create the term's buffers.

        Args:
            cfg: The term configuration.
            env: The environment (its scene must be a :class:`StackScene`).
        """
        super().__init__(cfg, env)
        self._raw = torch.zeros(self.num_envs, 6, device=self.device)
        self._processed = torch.zeros_like(self._raw)
        self._scale = torch.tensor([cfg.pos_scale] * 3 + [cfg.rot_scale] * 3, device=self.device)
        self._start_pos = torch.zeros(self.num_envs, 3, device=self.device)
        self._start_quat = torch.zeros(self.num_envs, 4, device=self.device)
        self._num_substeps = env.cfg.decimation
        self._substep = 0

    @property
    def action_dim(self) -> int:
        return 6

    @property
    def raw_actions(self) -> torch.Tensor:
        return self._raw

    @property
    def processed_actions(self) -> torch.Tensor:
        return self._processed

    def process_actions(self, actions: torch.Tensor) -> None:
        self._raw[:] = actions
        self._processed[:] = actions.clamp(-1.0, 1.0) * self._scale
        self._start_pos[:] = self._env.scene.eef_pos
        self._start_quat[:] = self._env.scene.eef_quat
        self._substep = 0

    def apply_actions(self) -> None:
        self._substep = min(self._substep + 1, self._num_substeps)
        share = self._substep / self._num_substeps
        pos = self._start_pos + share * self._processed[:, :3]
        quat = math_utils.quat_mul(math_utils.quat_from_axis_angle(share * self._processed[:, 3:]), self._start_quat)
        self._env.scene.set_eef_target(pos, quat)

    def reset(self, env_ids: Sequence[int] | torch.Tensor | None = None) -> None:
        ids = slice(None) if env_ids is None else env_ids
        self._raw[ids] = 0.0
        self._processed[ids] = 0.0


@configclass
class RelativeEefPoseActionCfg(ActionTermCfg):
    """Configuration of :class:`RelativeEefPoseAction`."""

    class_type: type = RelativeEefPoseAction

    pos_scale: float = 0.02
    """Position delta (m) of a full-scale action."""

    rot_scale: float = 0.1
    """Rotation delta (rad) per axis of a full-scale action."""


class BinaryGripperAction(ActionTerm):
    """One number: negative closes the gripper, zero or positive opens it.

    The processed action is the two finger position targets.
    """

    cfg: BinaryGripperActionCfg

    def __init__(self, cfg: BinaryGripperActionCfg, env: ManagerBasedRLEnv) -> None:
        """Create the term's buffers.

        Args:
            cfg: The term configuration.
            env: The environment (its scene must be a :class:`StackScene`).
        """
        super().__init__(cfg, env)
        self._raw = torch.zeros(self.num_envs, 1, device=self.device)
        self._open = env.scene.cfg.finger_open_pos
        self._processed = torch.full((self.num_envs, 2), self._open, device=self.device)

    @property
    def action_dim(self) -> int:
        return 1

    @property
    def raw_actions(self) -> torch.Tensor:
        return self._raw

    @property
    def processed_actions(self) -> torch.Tensor:
        return self._processed

    def process_actions(self, actions: torch.Tensor) -> None:
        self._raw[:] = actions
        close = actions < 0.0
        self._processed[:] = torch.where(
            close, torch.zeros_like(self._processed), torch.full_like(self._processed, self._open)
        )

    def apply_actions(self) -> None:
        self._env.scene.set_finger_targets(self._processed)

    def reset(self, env_ids: Sequence[int] | torch.Tensor | None = None) -> None:
        ids = slice(None) if env_ids is None else env_ids
        self._raw[ids] = 0.0
        self._processed[ids] = self._open


@configclass
class BinaryGripperActionCfg(ActionTermCfg):
    """Configuration of :class:`BinaryGripperAction`."""

    class_type: type = BinaryGripperAction
