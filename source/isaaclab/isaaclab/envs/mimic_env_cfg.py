"""Configuration of Isaac Lab Mimic data generation: what to generate, and how each subtask is replayed."""

from __future__ import annotations

from typing import Any

from isaaclab.utils import configclass

__all__ = ["DataGenConfig", "MimicEnvCfg", "SubTaskConfig"]


@configclass
class DataGenConfig:
    """Settings of a data generation run."""

    name: str = "demo"
    """Name of the data generation run."""

    generation_guarantee: bool = True
    """If true, generate until ``generation_num_trials`` demos succeeded; otherwise stop after that many attempts."""

    generation_keep_failed: bool = False
    """If true, failed demos are exported too, to a separate ``<dataset_filename>_failed`` file."""

    max_num_failures: int = 50
    """Stop generating after this many failed attempts."""

    seed: int = 1
    """Random seed of the generation run."""

    source_dataset_path: str | None = None
    """Path of the annotated source dataset (the generation script may override it)."""

    generation_path: str | None = None
    """Where generated data goes (the generation script may override it)."""

    generation_num_trials: int = 10
    """Number of successful demos (or attempts, see ``generation_guarantee``) to generate."""

    task_name: str | None = None
    """Name of the task the config belongs to."""

    generation_select_src_per_subtask: bool = False
    """If true, pick a new source demo for every subtask; otherwise keep the one picked for the first subtask."""

    generation_select_src_per_arm: bool = False
    """If true, each end effector picks its own source demo; otherwise the first selection is shared by all."""

    generation_relative: bool = False
    """Kept for config compatibility with upstream Isaac Lab Mimic; the generator does not read it."""

    generation_transform_first_robot_pose: bool = False
    """If true, every source segment starts with the source's robot end-effector pose, not only the first one."""

    generation_interpolate_from_last_target_pose: bool = True
    """If true, interpolation into a subtask starts from the last target pose rather than the current eef pose."""


@configclass
class SubTaskConfig:
    """How one subtask of one end effector is selected, transformed and executed."""

    object_ref: str | None = None
    """Object whose frame the subtask is relative to (``None``: the world frame)."""

    subtask_term_signal: str | None = None
    """Name of the signal whose first 0->1 edge ends the subtask in the source demos (``None``: the episode end)."""

    selection_strategy: str = "random"
    """Name of the registered source-demo selection strategy."""

    selection_strategy_kwargs: dict[str, Any] = {}
    """Keyword arguments of the selection strategy."""

    first_subtask_start_offset_range: tuple[int, int] = (0, 0)
    """Range (inclusive) of a random offset added to the start of the first subtask."""

    subtask_term_offset_range: tuple[int, int] = (0, 0)
    """Range (inclusive) of a random offset added to the end of the subtask (must be (0, 0) for the last one)."""

    action_noise: float = 0.03
    """Scale of the Gaussian noise added to the actions of the subtask."""

    num_interpolation_steps: int = 5
    """Number of interpolated poses between the previous pose and the start of the subtask segment."""

    num_fixed_steps: int = 0
    """Number of steps to hold the start pose of the segment after interpolating to it."""

    apply_noise_during_interpolation: bool = False
    """If true, the interpolation and fixed steps get ``action_noise`` too."""

    description: str = ""
    """Human-readable description of the subtask."""

    next_subtask_description: str = ""
    """Human-readable description of the subtask that follows."""


@configclass
class MimicEnvCfg:
    """Mimic part of an environment config: data generation settings and the subtasks of each end effector."""

    datagen_config: DataGenConfig = DataGenConfig()
    """Settings of the data generation run."""

    subtask_configs: dict[str, list[SubTaskConfig]] = {}
    """Ordered subtasks of each end effector, keyed by end-effector name."""

    mimic_recorder_config: Any = None
    """Recorder config to use while generating (``None``: ``ActionStateRecorderManagerCfg``)."""
