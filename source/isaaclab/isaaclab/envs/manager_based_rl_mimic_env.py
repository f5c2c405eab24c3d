"""The interface Isaac Lab Mimic needs from an environment."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

import isaaclab.utils.math as PoseUtils

from .manager_based_rl_env import ManagerBasedRLEnv


def optional_method(func: Callable) -> Callable:
    """Mark an interface method that a Mimic environment may leave unimplemented."""
    func.__is_optional__ = True
    return func


class ManagerBasedRLMimicEnv(ManagerBasedRLEnv):
    """An RL environment that Mimic can generate data in.

    Poses are (N, 4, 4) homogeneous matrices in each environment's own frame (the robot base frame of the tasks
    here). Subclasses implement the end-effector and action conversions for their controller.
    """

    def get_robot_eef_pose(self, eef_name: str, env_ids: Sequence[int] | None = None) -> torch.Tensor:
        """The current pose of an end effector, in the frame its controller uses.

        Args:
            eef_name: Name of the end effector.
            env_ids: Environments to query (None: all).

        Returns:
            Poses, shape (len(env_ids), 4, 4).
        """
        raise NotImplementedError

    def target_eef_pose_to_action(
        self,
        target_eef_pose_dict: dict,
        gripper_action_dict: dict,
        action_noise_dict: dict | None = None,
        env_id: int = 0,
    ) -> torch.Tensor:
        """The action that moves each end effector towards its target pose, with gripper actions and noise.

        Args:
            target_eef_pose_dict: Target pose (4, 4) per end effector.
            gripper_action_dict: Gripper action per end effector.
            action_noise_dict: Noise scale per end effector (None: no noise).
            env_id: The environment the action is for.

        Returns:
            The action for that environment, shape (action_dim,).
        """
        raise NotImplementedError

    def action_to_target_eef_pose(self, action: torch.Tensor) -> dict[str, torch.Tensor]:
        """The target pose of each end effector that an action commands (inverse of
        :meth:`target_eef_pose_to_action`).

        Args:
            action: Shape (num_envs, action_dim).

        Returns:
            Target poses, shape (num_envs, 4, 4), per end effector.
        """
        raise NotImplementedError

    def actions_to_gripper_actions(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        """The gripper part of a sequence of actions, per end effector.

        Args:
            actions: Shape (..., action_dim).

        Returns:
            Gripper actions, shape (..., gripper_dim), per end effector.
        """
        raise NotImplementedError

    def get_object_poses(self, env_ids: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
        """The pose of every rigid object, relative to each environment's frame.

        Args:
            env_ids: Environments to query (None: all).

        Returns:
            Poses, shape (len(env_ids), 4, 4), per object name.
        """
        ids = slice(None) if env_ids is None else env_ids
        rigid_object_states = self.scene.get_state(is_relative=True)["rigid_object"]
        return {
            name: PoseUtils.make_pose(
                state["root_pose"][ids, :3], PoseUtils.matrix_from_quat(state["root_pose"][ids, 3:7])
            )
            for name, state in rigid_object_states.items()
        }

    @optional_method
    def get_subtask_start_signals(self, env_ids: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
        """Flags (1 once a subtask has started) per subtask, for automatic start annotation.

        Args:
            env_ids: Environments to query (None: all).
        """
        raise NotImplementedError

    @optional_method
    def get_subtask_term_signals(self, env_ids: Sequence[int] | None = None) -> dict[str, torch.Tensor]:
        """Flags (1 once a subtask is done) per subtask signal, for automatic annotation.

        Args:
            env_ids: Environments to query (None: all).
        """
        raise NotImplementedError

    def serialize(self) -> dict:
        """The metadata needed to re-create this environment (stored in datasets as ``env_args``)."""
        return dict(env_name=self.spec.id if self.spec is not None else self.cfg.env_name, type=2, env_kwargs=dict())
