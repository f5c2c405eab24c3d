"""Waypoints (target pose + gripper action + noise), sequences and trajectories of them, and their execution.

Execution goes through the env: a waypoint becomes an action with ``env.target_eef_pose_to_action``. With an action
queue (asynchronous generation) the action is queued as ``(env_id, action)`` and the call waits until the batched env
has stepped (``queue.join()``); without one, a single-env ``env`` is stepped directly.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

import isaaclab.utils.math as PoseUtils

__all__ = ["MultiWaypoint", "Waypoint", "WaypointSequence", "WaypointTrajectory", "task_succeeded"]


@dataclass
class Waypoint:
    """A control target of one end effector for one step."""

    pose: torch.Tensor
    """Target end-effector pose, (4, 4)."""

    gripper_action: torch.Tensor
    """Gripper action, (gripper_dim,)."""

    noise: float = 0.0
    """Scale of the Gaussian noise added to the action of this step."""

    def __post_init__(self) -> None:
        if self.pose.shape != (4, 4):
            raise ValueError(f"A waypoint pose must be (4, 4), got {tuple(self.pose.shape)}.")
        if self.gripper_action.dim() != 1:
            raise ValueError(f"A waypoint gripper action must be 1-D, got {tuple(self.gripper_action.shape)}.")


class WaypointSequence:
    """An ordered list of waypoints."""

    def __init__(self, sequence: list[Waypoint] | None = None):
        """Create a sequence (empty by default)."""
        self.sequence: list[Waypoint] = [] if sequence is None else list(sequence)

    @classmethod
    def from_poses(
        cls, poses: torch.Tensor, gripper_actions: torch.Tensor, action_noise: float | torch.Tensor
    ) -> WaypointSequence:
        """Build a sequence from poses (T, 4, 4), gripper actions (T, gripper_dim) and a noise scale.

        Args:
            poses: Target poses.
            gripper_actions: Gripper actions, one row per pose.
            action_noise: One noise scale for all steps, or one per step (T,).
        """
        if len(poses) != len(gripper_actions):
            raise ValueError(f"Got {len(poses)} poses but {len(gripper_actions)} gripper actions.")
        noise = torch.as_tensor(action_noise, dtype=torch.float32).expand(len(poses)).tolist()
        return cls([Waypoint(pose, gripper, float(n)) for pose, gripper, n in zip(poses, gripper_actions, noise)])

    def __len__(self) -> int:
        return len(self.sequence)

    def __getitem__(self, index: int) -> Waypoint:
        return self.sequence[index]

    def __iter__(self) -> Iterator[Waypoint]:
        return iter(self.sequence)

    @property
    def last_waypoint(self) -> Waypoint:
        """The last waypoint."""
        return self.sequence[-1]


class WaypointTrajectory:
    """A list of waypoint sequences executed one after the other, for one end effector."""

    def __init__(self):
        """Create an empty trajectory."""
        self.waypoint_sequences: list[WaypointSequence] = []

    def __len__(self) -> int:
        return sum(len(sequence) for sequence in self.waypoint_sequences)

    def __iter__(self) -> Iterator[Waypoint]:
        for sequence in self.waypoint_sequences:
            yield from sequence

    @property
    def last_waypoint(self) -> Waypoint:
        """The last waypoint of the last sequence."""
        return self.waypoint_sequences[-1].last_waypoint

    def add_waypoint_sequence(self, sequence: WaypointSequence) -> None:
        """Append a sequence."""
        self.waypoint_sequences.append(sequence)

    def add_waypoint_sequence_for_target_pose(
        self,
        pose: torch.Tensor,
        gripper_action: torch.Tensor,
        num_steps: int,
        skip_interpolation: bool = False,
        action_noise: float = 0.0,
    ) -> None:
        """Append a sequence that moves to a target pose.

        With interpolation, the sequence holds the ``num_steps`` poses strictly between the current last waypoint
        and ``pose``, then ``pose`` itself (``num_steps + 1`` waypoints). With ``skip_interpolation``, it holds
        ``pose`` repeated ``num_steps`` times.

        Args:
            pose: Target pose, (4, 4).
            gripper_action: Gripper action of every new waypoint, (gripper_dim,).
            num_steps: Number of interpolated poses (or of repetitions with ``skip_interpolation``).
            skip_interpolation: Repeat the target instead of interpolating to it.
            action_noise: Noise scale of the new waypoints.

        Raises:
            ValueError: If interpolation is asked for on an empty trajectory.
        """
        if skip_interpolation:
            poses = pose.unsqueeze(0).expand(num_steps, 4, 4)
        else:
            if not self.waypoint_sequences:
                raise ValueError("Cannot interpolate to a target pose from an empty trajectory.")
            poses, _ = PoseUtils.interpolate_poses(self.last_waypoint.pose, pose, num_steps=num_steps)
            # the first pose is the current last waypoint, already in the trajectory
            poses = poses[1:]
        gripper_actions = gripper_action.unsqueeze(0).expand(len(poses), -1)
        self.add_waypoint_sequence(WaypointSequence.from_poses(poses, gripper_actions, action_noise))

    def pop_first(self) -> Waypoint:
        """Remove and return the first waypoint (dropping its sequence if that empties it)."""
        first_sequence = self.waypoint_sequences[0]
        waypoint = first_sequence.sequence.pop(0)
        if len(first_sequence) == 0:
            self.waypoint_sequences.pop(0)
        return waypoint

    def merge(
        self,
        other: WaypointTrajectory,
        num_steps_interp: int | None = None,
        num_steps_fixed: int | None = None,
        action_noise: float = 0.0,
    ) -> None:
        """Append another trajectory, optionally bridging to its first waypoint.

        The bridge interpolates from this trajectory's last waypoint to the first pose of ``other`` in
        ``num_steps_interp`` steps, then holds that pose for ``num_steps_fixed`` steps, with the gripper action of
        ``other``'s first waypoint. The bridge ends on that pose, so ``other``'s first waypoint is then skipped.
        ``other`` itself is left unchanged.

        Args:
            other: The trajectory to append.
            num_steps_interp: Number of interpolated poses (``None`` or 0: no interpolation).
            num_steps_fixed: Number of steps holding the first pose of ``other`` (``None`` or 0: none).
            action_noise: Noise scale of the bridge waypoints.
        """
        target = other.waypoint_sequences[0][0]
        sequences = list(other.waypoint_sequences)
        bridged = False
        if num_steps_interp:
            self.add_waypoint_sequence_for_target_pose(
                target.pose, target.gripper_action, num_steps_interp, action_noise=action_noise
            )
            bridged = True
        if num_steps_fixed:
            self.add_waypoint_sequence_for_target_pose(
                target.pose, target.gripper_action, num_steps_fixed, skip_interpolation=True, action_noise=action_noise
            )
            bridged = True
        if bridged:
            sequences[0] = WaypointSequence(sequences[0].sequence[1:])
        self.waypoint_sequences.extend(sequence for sequence in sequences if len(sequence) > 0)

    def get_full_sequence(self) -> WaypointSequence:
        """All waypoints as one sequence."""
        return WaypointSequence(list(self))

    async def execute(
        self,
        env: Any,
        env_id: int,
        success_term: Any,
        env_action_queue: asyncio.Queue | None = None,
        eef_name: str | None = None,
    ) -> dict[str, Any]:
        """Execute every waypoint, one env step each.

        Args:
            env: The Mimic environment.
            env_id: The environment to act in.
            success_term: The success term config (``func(env, **params)`` gives (num_envs,) booleans).
            env_action_queue: Queue of ``(env_id, action)`` served by the env loop; ``None`` steps ``env`` directly.
            eef_name: The end effector (default: the first of ``env.cfg.subtask_configs``).

        Returns:
            ``actions`` (num_steps, action_dim) and ``success`` (true if the task succeeded at any step).
        """
        eef_name = eef_name if eef_name is not None else next(iter(env.cfg.subtask_configs))
        actions = []
        success = False
        for waypoint in self:
            result = await MultiWaypoint({eef_name: waypoint}).execute(env, success_term, env_id, env_action_queue)
            actions.append(result["actions"])
            success = success or result["success"]
        return {"actions": torch.cat(actions) if actions else torch.empty(0), "success": success}


class MultiWaypoint:
    """The waypoints of all end effectors for one step."""

    def __init__(self, waypoints: dict[str, Waypoint]):
        """Create a step from one waypoint per end-effector name."""
        self.waypoints = waypoints

    async def execute(
        self, env: Any, success_term: Any, env_id: int = 0, env_action_queue: asyncio.Queue | None = None
    ) -> dict[str, Any]:
        """Turn the waypoints into an action, step the env with it, and check success.

        Args:
            env: The Mimic environment.
            success_term: The success term config (``func(env, **params)`` gives (num_envs,) booleans).
            env_id: The environment to act in.
            env_action_queue: Queue of ``(env_id, action)`` served by the env loop; ``None`` steps ``env`` directly
                (single-env only).

        Returns:
            ``actions`` (1, action_dim) and ``success`` (bool) after the step.

        Raises:
            ValueError: If there is no queue and the env has more than one environment.
        """
        action = env.target_eef_pose_to_action(
            target_eef_pose_dict={name: waypoint.pose for name, waypoint in self.waypoints.items()},
            gripper_action_dict={name: waypoint.gripper_action for name, waypoint in self.waypoints.items()},
            action_noise_dict={name: waypoint.noise for name, waypoint in self.waypoints.items()},
            env_id=env_id,
        )
        action = action.reshape(-1)
        if env_action_queue is None:
            if env.num_envs != 1:
                raise ValueError("Executing waypoints without an action queue needs an env with num_envs == 1.")
            env.step(action.unsqueeze(0))
        else:
            await env_action_queue.put((env_id, action))
            await env_action_queue.join()
        return {"actions": action.unsqueeze(0), "success": task_succeeded(env, success_term, env_id)}


_success_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Per env: (step counter, success term, success of every env) of the last evaluation."""


def task_succeeded(env: Any, success_term: Any, env_id: int) -> bool:
    """Whether the success term holds in one environment now.

    With many environments each generation task asks after every step; the term is evaluated once per env step for
    all environments (keyed on ``env.common_step_counter``; envs without that counter are evaluated on every call).
    """
    step = getattr(env, "common_step_counter", None)
    cached = _success_cache.get(env) if step is not None else None
    if cached is None or cached[0] != step or cached[1] is not success_term:
        cached = (step, success_term, success_term.func(env, **success_term.params).tolist())
        if step is not None:
            _success_cache[env] = cached
    return bool(cached[2][env_id])
