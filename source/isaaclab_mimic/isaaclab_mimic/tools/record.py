"""Record successful source demos of the stacking task driven by the scripted expert."""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from isaaclab.envs import ManagerBasedRLEnv, TerminationTermCfg
from isaaclab.envs.mdp.recorders.recorders_cfg import ActionStateRecorderManagerCfg
from isaaclab.managers import DatasetExportMode

from isaaclab_tasks.manager_based.manipulation.stack.scripted_expert import ScriptedStackExpert
from isaaclab_tasks.manager_based.manipulation.stack.stack_scene_cfg import StackSceneCfg

from ..datagen.dataset_format import check_new_dataset, configure_dataset_format, dataset_output_path
from .cli import ToolError, load_env_cfg, make_env, new_dataset_file

TELEOP_DEVICES = ("scripted",)
"""Teleoperation devices available here (the scripted expert)."""


def record_demos(
    task: str,
    num_demos: int,
    dataset_file: str,
    seed: int | None = None,
    device: str = "cpu",
    num_envs: int = 1,
    enable_cameras: bool = False,
    teleop_device: str = "scripted",
    max_attempts_per_demo: int = 5,
    log: Callable[[str], None] = print,
    dataset_format: str = "hdf5",
) -> str:
    """Run the scripted expert in ``num_envs`` environments until ``num_demos`` episodes succeeded, and write them.

    Each environment's episode is exported the step the task succeeds (later successes in the same step beyond
    ``num_demos`` are dropped); episodes that time out are discarded.

    Args:
        task: A cube-stacking task id.
        num_demos: Number of successful demos to record.
        dataset_file: The HDF5 file to create (``.hdf5`` appended if missing); must not exist. With the ``lerobot``
            format, the dataset folder to create (a trailing ``.hdf5`` is dropped); must not exist or be empty.
        seed: Environment seed (None: random).
        device: Torch device.
        num_envs: Number of environments recording in parallel.
        enable_cameras: Allow camera tasks.
        teleop_device: Source of the actions; only ``"scripted"``.
        max_attempts_per_demo: Give up after ``num_demos * max_attempts_per_demo`` episodes that ended.
        log: Where progress lines go.
        dataset_format: ``hdf5`` or ``lerobot`` (a LeRobot v3.0 dataset folder, cameras encoded as video).

    Returns:
        The path of the written dataset file.

    Raises:
        ToolError: On bad input, or if the expert keeps failing.
    """
    if teleop_device not in TELEOP_DEVICES:
        raise ToolError(f"Unknown --teleop_device '{teleop_device}'; available here: {', '.join(TELEOP_DEVICES)}.")
    if num_demos < 1:
        raise ToolError(f"--num_demos must be at least 1, got {num_demos}.")
    if dataset_format == "hdf5":
        directory, filename = new_dataset_file(dataset_file, "Dataset file")
    else:
        path = dataset_output_path(dataset_file, dataset_format)
        try:
            check_new_dataset(path, dataset_format)
        except FileExistsError as error:
            raise ToolError(str(error)) from error
        directory, filename = os.path.split(path)
    env_cfg = load_env_cfg(task, device, num_envs, enable_cameras)
    if not isinstance(env_cfg.scene, StackSceneCfg):
        raise ToolError(f"The scripted expert drives only the cube-stacking tasks; '{task}' is not one.")
    success_term = env_cfg.terminations.success
    env_cfg.terminations.success = None
    env_cfg.seed = seed
    env_cfg.recorders = ActionStateRecorderManagerCfg(
        dataset_export_dir_path=directory,
        dataset_filename=filename,
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_ONLY,
    )
    configure_dataset_format(env_cfg.recorders, dataset_format, task=None)

    env = make_env(task, env_cfg)
    try:
        _run_expert(env, success_term, num_demos, num_demos * max_attempts_per_demo, log)
    finally:
        env.close()
    path = os.path.join(directory, filename + ".hdf5" if dataset_format == "hdf5" else filename)
    log(f"Recorded {num_demos} successful demos to {path}")
    return path


def _run_expert(
    env: ManagerBasedRLEnv,
    success_term: TerminationTermCfg,
    num_demos: int,
    max_episodes: int,
    log: Callable[[str], None],
) -> None:
    """Step the expert until ``num_demos`` episodes succeeded, exporting each one the step it succeeds."""
    expert = ScriptedStackExpert.from_env(env)
    recorder = env.recorder_manager
    obs, _ = env.reset()
    recorded = ended = 0
    while recorded < num_demos:
        obs, _, _, timed_out, _ = env.step(expert.act(obs["policy"]))
        succeeded = success_term.func(env, **success_term.params) & ~timed_out
        export_ids = succeeded.nonzero(as_tuple=False).squeeze(-1)[: num_demos - recorded]
        if len(export_ids) > 0:
            recorder.record_pre_reset(export_ids, force_export_or_skip=False)
            recorder.set_success_to_episodes(export_ids, torch.ones(len(export_ids), dtype=torch.bool))
            recorder.export_episodes(export_ids)
            obs, _ = env.reset(env_ids=export_ids)
            recorded += len(export_ids)
            log(f"Recorded demo {recorded}/{num_demos}")
        restart = timed_out.clone()
        restart[export_ids] = True
        expert.reset(restart.nonzero(as_tuple=False).squeeze(-1))
        ended += int(restart.sum())
        if ended >= max_episodes and recorded < num_demos:
            raise ToolError(f"The scripted expert succeeded in only {recorded} of {ended} episodes; giving up.")
