"""Mimic configurations of the embedded cube-stacking task."""

from __future__ import annotations

from isaaclab.envs.mimic_env_cfg import DataGenConfig, MimicEnvCfg, SubTaskConfig
from isaaclab.utils import configclass

from isaaclab_tasks.manager_based.manipulation.stack.stack_env_cfg import (
    GripperCubeStackEnvCfg,
    GripperCubeStackVisuomotorEnvCfg,
)

from .stack_gripper_ik_rel_mimic_env import EEF_NAME


def stack_datagen_config() -> DataGenConfig:
    """Data generation settings of the stacking task."""
    return DataGenConfig(
        name="demo_src_stack_gripper_task_D0",
        generation_guarantee=True,
        generation_keep_failed=False,
        generation_num_trials=10,
        generation_select_src_per_subtask=True,
        generation_transform_first_robot_pose=False,
        generation_interpolate_from_last_target_pose=True,
        max_num_failures=25,
        seed=1,
    )


def stack_subtask_configs() -> dict[str, list[SubTaskConfig]]:
    """Subtasks of the gripper: grasp cube_2, put it on cube_1, grasp cube_3, put it on cube_2."""
    steps = [
        ("cube_2", "grasp_1", "Grasp the red cube"),
        ("cube_1", "stack_1", "Stack the red cube on the blue cube"),
        ("cube_3", "grasp_2", "Grasp the green cube"),
        ("cube_2", None, "Stack the green cube on the red cube"),
    ]
    subtasks = []
    for index, (object_ref, signal, description) in enumerate(steps):
        subtasks.append(
            SubTaskConfig(
                object_ref=object_ref,
                subtask_term_signal=signal,
                subtask_term_offset_range=(10, 20) if signal is not None else (0, 0),
                selection_strategy="nearest_neighbor_object",
                selection_strategy_kwargs={"nn_k": 3},
                action_noise=0.03,
                num_interpolation_steps=5,
                num_fixed_steps=0,
                apply_noise_during_interpolation=False,
                description=description,
                next_subtask_description=steps[index + 1][2] if index + 1 < len(steps) else "",
            )
        )
    return {EEF_NAME: subtasks}


@configclass
class GripperCubeStackIKRelMimicEnvCfg(GripperCubeStackEnvCfg, MimicEnvCfg):
    """The stacking task with its Mimic data generation settings."""

    datagen_config = stack_datagen_config()
    subtask_configs = stack_subtask_configs()


@configclass
class GripperCubeStackIKRelVisuomotorMimicEnvCfg(GripperCubeStackVisuomotorEnvCfg, MimicEnvCfg):
    """The stacking task with cameras and its Mimic data generation settings."""

    datagen_config = stack_datagen_config()
    subtask_configs = stack_subtask_configs()
