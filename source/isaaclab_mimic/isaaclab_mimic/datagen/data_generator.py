"""Generates one new demo in one environment by replaying transformed source demo segments."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import torch

import isaaclab.utils.math as PoseUtils

from .datagen_info_pool import DataGenInfoPool
from .selection_strategy import make_selection_strategy
from .waypoint import MultiWaypoint, Waypoint, WaypointSequence, WaypointTrajectory

__all__ = ["DataGenerator"]


class DataGenerator:
    """Generates demos in a Mimic environment from a pool of annotated source demos.

    For each subtask of each end effector it picks a source demo segment, moves the segment's end-effector targets
    from the source object frame into the current object frame, bridges to it from the previous target (or the
    current pose) by interpolation, and executes it with action noise.
    """

    def __init__(
        self,
        env: Any,
        src_demo_datagen_info_pool: DataGenInfoPool | None = None,
        dataset_path: str | None = None,
        demo_keys: Sequence[str] | None = None,
    ):
        """Create a generator.

        Args:
            env: The Mimic environment.
            src_demo_datagen_info_pool: The source demos; if ``None``, they are loaded from ``dataset_path``.
            dataset_path: Annotated source dataset to load when no pool is given.
            demo_keys: Names of the demos to load from ``dataset_path`` (``None``: all).

        Raises:
            ValueError: If neither a pool nor a dataset path is given, if the pool is empty, or if a last subtask
                has a non-zero ``subtask_term_offset_range``.
        """
        self.env = env
        self.env_cfg = env.cfg
        self.dataset_path = dataset_path
        self.demo_keys = demo_keys
        for eef_name, subtask_configs in self.env_cfg.subtask_configs.items():
            if tuple(subtask_configs[-1].subtask_term_offset_range) != (0, 0):
                raise ValueError(f"The last subtask of '{eef_name}' must have subtask_term_offset_range (0, 0).")
        if src_demo_datagen_info_pool is not None:
            self.src_demo_datagen_info_pool = src_demo_datagen_info_pool
        elif dataset_path is not None:
            self.src_demo_datagen_info_pool = DataGenInfoPool(env, self.env_cfg, env.device)
            self.src_demo_datagen_info_pool.load_from_dataset_file(dataset_path, select_demo_keys=demo_keys)
        else:
            raise ValueError("DataGenerator needs either src_demo_datagen_info_pool or dataset_path.")
        if self.src_demo_datagen_info_pool.num_datagen_infos == 0:
            raise ValueError("The source demo pool is empty: there is nothing to generate from.")

    def randomize_subtask_boundaries(self) -> dict[str, torch.Tensor]:
        """Draw the random offsets of the subtask boundaries of every source demo.

        The first subtask's start moves by ``first_subtask_start_offset_range`` and each subtask's end (which is the
        next subtask's start) by its ``subtask_term_offset_range`` (bounds inclusive, torch's global generator).

        Returns:
            Per end effector, the boundaries (num_demos, num_subtasks, 2) as ``[start, end)`` step indices.
        """
        randomized = {}
        for eef_name, demo_boundaries in self.src_demo_datagen_info_pool.subtask_boundaries.items():
            configs = self.env_cfg.subtask_configs[eef_name]
            boundaries = torch.tensor(demo_boundaries, dtype=torch.long)
            num_demos = boundaries.shape[0]
            low, high = configs[0].first_subtask_start_offset_range
            boundaries[:, 0, 0] += torch.randint(low, high + 1, (num_demos,))
            for i in range(boundaries.shape[1] - 1):
                low, high = configs[i].subtask_term_offset_range
                boundaries[:, i, 1] += torch.randint(low, high + 1, (num_demos,))
                boundaries[:, i + 1, 0] = boundaries[:, i, 1]
            if bool((boundaries[:, :, 1] <= boundaries[:, :, 0]).any()):
                raise ValueError(f"The offset ranges of '{eef_name}' produced an empty subtask segment.")
            randomized[eef_name] = boundaries
        return randomized

    def select_source_demo(
        self,
        eef_name: str,
        eef_pose: torch.Tensor,
        object_pose: torch.Tensor | None,
        src_demo_current_subtask_boundaries: torch.Tensor,
        subtask_object_name: str | None,
        selection_strategy_name: str,
        selection_strategy_kwargs: dict | None = None,
    ) -> int:
        """Pick the source demo whose segment of the current subtask to replay.

        Args:
            eef_name: The end effector.
            eef_pose: Its current pose, (4, 4).
            object_pose: Current pose of the subtask's reference object, (4, 4), or ``None``.
            src_demo_current_subtask_boundaries: ``[start, end)`` of the subtask in each source demo, (num_demos, 2).
            subtask_object_name: The reference object, or ``None``.
            selection_strategy_name: Registered name of the selection strategy.
            selection_strategy_kwargs: Its keyword arguments.

        Returns:
            Index of the chosen source demo.
        """
        segments = [
            info.segment(eef_name, subtask_object_name, int(start), int(end))
            for info, (start, end) in zip(
                self.src_demo_datagen_info_pool.datagen_infos, src_demo_current_subtask_boundaries.tolist()
            )
        ]
        strategy = make_selection_strategy(selection_strategy_name)
        return strategy.select_source_demo(eef_pose, object_pose, segments, **(selection_strategy_kwargs or {}))

    def generate_eef_subtask_trajectory(
        self,
        env_id: int,
        eef_name: str,
        subtask_ind: int,
        all_randomized_subtask_boundaries: dict[str, torch.Tensor],
        selected_src_demo_inds: dict[tuple, int],
        last_waypoint: Waypoint | None = None,
    ) -> WaypointTrajectory:
        """Build the waypoints of one subtask of one end effector.

        Args:
            env_id: The environment.
            eef_name: The end effector.
            subtask_ind: Index of the subtask in ``subtask_configs[eef_name]``.
            all_randomized_subtask_boundaries: Output of :meth:`randomize_subtask_boundaries`.
            selected_src_demo_inds: Source demo choices made so far in this trial, updated in place; the key says
                which choices are shared (see ``generation_select_src_per_subtask`` / ``_per_arm``).
            last_waypoint: The last executed waypoint of this end effector (``None`` before the first subtask, or to
                bridge from the current pose).

        Returns:
            The trajectory: the bridge from the previous target (or current pose) and the transformed segment.
        """
        datagen_config = self.env_cfg.datagen_config
        subtask_config = self.env_cfg.subtask_configs[eef_name][subtask_ind]
        is_first_subtask = subtask_ind == 0
        object_name = subtask_config.object_ref
        object_pose = None if object_name is None else self.env.get_object_poses(env_ids=[env_id])[object_name][0]
        current_eef_pose = self.env.get_robot_eef_pose(eef_name, env_ids=[env_id])[0]

        selection_key = self._selection_key(eef_name, subtask_ind)
        if selection_key not in selected_src_demo_inds:
            selected_src_demo_inds[selection_key] = self.select_source_demo(
                eef_name,
                current_eef_pose,
                object_pose,
                all_randomized_subtask_boundaries[eef_name][:, subtask_ind],
                object_name,
                subtask_config.selection_strategy,
                subtask_config.selection_strategy_kwargs,
            )
        demo_ind = selected_src_demo_inds[selection_key]

        start, end = all_randomized_subtask_boundaries[eef_name][demo_ind, subtask_ind].tolist()
        src_info = self.src_demo_datagen_info_pool.datagen_infos[demo_ind]
        target_poses = src_info.target_eef_pose[eef_name][start:end]
        gripper_actions = src_info.gripper_action[eef_name][start:end]
        if is_first_subtask or datagen_config.generation_transform_first_robot_pose:
            # start from the source's measured eef pose, so the bridge goes to where the source robot really was
            src_poses = torch.cat((src_info.eef_pose[eef_name][start : start + 1], target_poses))
            gripper_actions = torch.cat((gripper_actions[:1], gripper_actions))
        else:
            src_poses = target_poses
        if object_name is not None:
            src_object_pose = src_info.object_poses[object_name][start]
            src_poses = PoseUtils.transform_poses_from_frame_A_to_frame_B(src_poses, src_object_pose, object_pose)

        from_last_target = datagen_config.generation_interpolate_from_last_target_pose and not is_first_subtask
        if from_last_target and last_waypoint is not None:
            start_waypoint = last_waypoint
        else:
            start_waypoint = Waypoint(current_eef_pose, gripper_actions[0], subtask_config.action_noise)
        trajectory = WaypointTrajectory()
        trajectory.add_waypoint_sequence(WaypointSequence([start_waypoint]))
        segment = WaypointTrajectory()
        segment.add_waypoint_sequence(
            WaypointSequence.from_poses(src_poses, gripper_actions, subtask_config.action_noise)
        )
        trajectory.merge(
            segment,
            num_steps_interp=subtask_config.num_interpolation_steps,
            num_steps_fixed=subtask_config.num_fixed_steps,
            action_noise=subtask_config.action_noise if subtask_config.apply_noise_during_interpolation else 0.0,
        )
        # the start waypoint was only the origin of the bridge
        trajectory.pop_first()
        return trajectory

    async def generate(
        self,
        env_id: int,
        success_term: Any,
        env_reset_queue: asyncio.Queue | None = None,
        env_action_queue: asyncio.Queue | None = None,
        pause_subtask: bool = False,
        export_demo: bool = True,
        motion_planner: Any | None = None,
    ) -> dict[str, Any]:
        """Generate one demo in one environment.

        Resets the environment (through ``env_reset_queue`` when given) and its recorded episode, executes every
        subtask of every end effector (end effectors that finish early hold their last target), marks the episode's
        success and, with ``export_demo``, exports it.

        Args:
            env_id: The environment.
            success_term: The success term config (``func(env, **params)`` gives (num_envs,) booleans).
            env_reset_queue: Queue of env ids the env loop resets; ``None`` resets ``env`` directly.
            env_action_queue: Queue of ``(env_id, action)`` the env loop steps; ``None`` steps ``env`` directly.
            pause_subtask: Wait for the Enter key after each subtask (blocks all environments).
            export_demo: Export the episode through the recorder manager at the end.
            motion_planner: A motion planner (SkillGen); the embedded runtime has none, so it must be None.

        Returns:
            ``success`` (bool: the task succeeded at some step), ``actions`` (num_steps, action_dim) and
            ``src_demo_inds`` (per end effector, the source demo of each subtask).
        """
        if motion_planner is not None:
            raise NotImplementedError("Motion planners (SkillGen) are not supported by the embedded data generator.")
        env_ids = torch.tensor([env_id], dtype=torch.int64, device=self.env.device)
        self.env.recorder_manager.reset(env_ids=env_ids)
        if env_reset_queue is None:
            self.env.reset(env_ids=env_ids)
        else:
            await env_reset_queue.put(env_id)
            await env_reset_queue.join()

        boundaries = self.randomize_subtask_boundaries()
        eef_names = list(self.env_cfg.subtask_configs)
        selections: dict[tuple, int] = {}
        subtask_inds = dict.fromkeys(eef_names, 0)
        step_inds = dict.fromkeys(eef_names, 0)
        done = dict.fromkeys(eef_names, False)
        src_demo_inds: dict[str, list[int]] = {name: [] for name in eef_names}
        trajectories = {}
        for name in eef_names:
            trajectories[name] = self._subtask_waypoints(env_id, name, 0, boundaries, selections, None, src_demo_inds)

        actions = []
        success = False
        while not all(done.values()):
            waypoints = {name: trajectories[name][step_inds[name]] for name in eef_names}
            result = await MultiWaypoint(waypoints).execute(self.env, success_term, env_id, env_action_queue)
            actions.append(result["actions"])
            success = success or result["success"]
            for name in eef_names:
                if done[name]:
                    # a finished end effector keeps repeating its last waypoint
                    continue
                step_inds[name] += 1
                if step_inds[name] < len(trajectories[name]):
                    continue
                if pause_subtask:
                    input(f"Subtask {subtask_inds[name]} of '{name}' done in env {env_id}. Press Enter to continue...")
                if subtask_inds[name] == len(self.env_cfg.subtask_configs[name]) - 1:
                    done[name] = True
                    step_inds[name] -= 1
                    continue
                subtask_inds[name] += 1
                step_inds[name] = 0
                trajectories[name] = self._subtask_waypoints(
                    env_id, name, subtask_inds[name], boundaries, selections, waypoints[name], src_demo_inds
                )

        self.env.recorder_manager.set_success_to_episodes(
            env_ids, torch.tensor([[success]], dtype=torch.bool, device=self.env.device)
        )
        if export_demo:
            self.env.recorder_manager.export_episodes(env_ids)
        return {"success": success, "actions": torch.cat(actions), "src_demo_inds": src_demo_inds}

    def _subtask_waypoints(
        self,
        env_id: int,
        eef_name: str,
        subtask_ind: int,
        boundaries: dict[str, torch.Tensor],
        selections: dict[tuple, int],
        last_waypoint: Waypoint | None,
        src_demo_inds: dict[str, list[int]],
    ) -> list[Waypoint]:
        """The waypoints of a subtask as a list, noting which source demo they come from."""
        trajectory = self.generate_eef_subtask_trajectory(
            env_id, eef_name, subtask_ind, boundaries, selections, last_waypoint
        )
        src_demo_inds[eef_name].append(selections[self._selection_key(eef_name, subtask_ind)])
        return trajectory.get_full_sequence().sequence

    def _selection_key(self, eef_name: str, subtask_ind: int) -> tuple[str | None, int]:
        """Key of a source demo choice: shared across end effectors and/or subtasks unless configured per each."""
        config = self.env_cfg.datagen_config
        return (
            eef_name if config.generation_select_src_per_arm else None,
            subtask_ind if config.generation_select_src_per_subtask else 0,
        )
