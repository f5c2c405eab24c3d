"""Mimic interface of the embedded cube-stacking task (one end effector, ``"gripper"``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

import isaaclab.utils.math as PoseUtils
from isaaclab.envs import ManagerBasedRLMimicEnv

EEF_NAME = "gripper"
"""Name of the task's only end effector."""


class GripperCubeStackIKRelMimicEnv(ManagerBasedRLMimicEnv):
    """The stacking env with relative TCP pose actions, seen by Mimic.

    Actions are ``[dp / pos_scale, rotvec / rot_scale, gripper]`` with ``R_target = R(rotvec) @ R_current``; poses are
    the TCP pose in each environment's frame.
    """

    def get_robot_eef_pose(self, eef_name: str, env_ids: Sequence[int] | None = None) -> torch.Tensor:
        """The TCP pose, shape (len(env_ids), 4, 4)."""
        _check_eef_name(eef_name)
        ids = slice(None) if env_ids is None else env_ids
        return PoseUtils.make_pose(self.scene.eef_pos[ids], PoseUtils.matrix_from_quat(self.scene.eef_quat[ids]))

    def target_eef_pose_to_action(
        self,
        target_eef_pose_dict: dict,
        gripper_action_dict: dict,
        action_noise_dict: dict | None = None,
        env_id: int = 0,
    ) -> torch.Tensor:
        """The action (7,) of one environment that moves the TCP to the target pose (clipped to [-1, 1])."""
        pos_scale, rot_scale = self._action_scales()
        target_pos, target_rot = PoseUtils.unmake_pose(target_eef_pose_dict[EEF_NAME].to(self.device))
        current_pos = self.scene.eef_pos[env_id]
        current_rot = PoseUtils.matrix_from_quat(self.scene.eef_quat[env_id])
        delta_rot = target_rot @ current_rot.transpose(-1, -2)
        delta_rotvec = PoseUtils.axis_angle_from_quat(PoseUtils.quat_from_matrix(delta_rot))
        pose_action = torch.cat(((target_pos - current_pos) / pos_scale, delta_rotvec / rot_scale))
        if action_noise_dict is not None:
            pose_action = pose_action + action_noise_dict[EEF_NAME] * torch.randn_like(pose_action)
        gripper_action = torch.as_tensor(gripper_action_dict[EEF_NAME], device=self.device).reshape(-1)
        return torch.cat((pose_action.clamp(-1.0, 1.0), gripper_action.to(pose_action.dtype)))

    def action_to_target_eef_pose(self, action: torch.Tensor) -> dict[str, torch.Tensor]:
        """The TCP poses (num_envs, 4, 4) that a batch of actions commands from the current poses."""
        pos_scale, rot_scale = self._action_scales()
        delta = action[:, :6].to(self.device).clamp(-1.0, 1.0)
        current_pos, current_rot = self.scene.eef_pos, PoseUtils.matrix_from_quat(self.scene.eef_quat)
        delta_rot = PoseUtils.matrix_from_quat(PoseUtils.quat_from_axis_angle(delta[:, 3:] * rot_scale))
        return {EEF_NAME: PoseUtils.make_pose(current_pos + delta[:, :3] * pos_scale, delta_rot @ current_rot)}

    def actions_to_gripper_actions(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """The gripper column of the actions, shape (..., 1)."""
        return {EEF_NAME: actions[..., 6:7]}

    def get_subtask_term_signals(self, env_ids: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
        """``grasp_1`` (cube_2 held), ``stack_1`` (cube_2 on cube_1), ``grasp_2`` (cube_3 held) as 0/1 floats."""
        ids = slice(None) if env_ids is None else env_ids
        return {name: value[ids].float() for name, value in self.obs_buf["subtask_terms"].items()}

    def _action_scales(self) -> tuple[float, float]:
        arm_cfg = self.action_manager.get_term("arm_action").cfg
        return arm_cfg.pos_scale, arm_cfg.rot_scale


def _check_eef_name(eef_name: str) -> None:
    if eef_name != EEF_NAME:
        raise KeyError(f"Unknown end effector '{eef_name}'; this task has one end effector, '{EEF_NAME}'.")
