"""Mimic data generation as a function: the body of ``generate_dataset.py``."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from isaaclab.envs import ManagerBasedRLMimicEnv
from isaaclab.managers import DatasetExportMode
from isaaclab_mimic.datagen.generation import env_loop, setup_async_generation, setup_env_config

from .cli import ToolError, check_cameras, existing_file, make_env, new_dataset_file
from .source_dataset import ensure_source_dataset

DEFAULT_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
"""The embedded cube-stacking task."""


@dataclasses.dataclass
class GenerationSummary:
    """What a generation run produced."""

    output_file: str
    """The generated dataset."""
    num_success: int
    """Successful demos generated."""
    num_failures: int
    """Failed attempts."""
    num_attempts: int
    """Finished attempts."""
    loop_seconds: float
    """Time of the generation loop, from the first step to the last (without the final drain of the writer)."""
    wall_seconds: float
    """Time from the first step to the file being closed (writer drained)."""
    writer: dict[str, Any]
    """The recorder's writer statistics at the end."""

    @property
    def success_rate(self) -> float:
        """Percentage of attempts that succeeded."""
        return 100.0 * self.num_success / self.num_attempts if self.num_attempts else 0.0


def generate_dataset(
    task: str = DEFAULT_TASK,
    input_file: str | None = None,
    output_file: str = "./datasets/output_dataset.hdf5",
    num_envs: int = 1,
    generation_num_trials: int | None = None,
    max_num_failures: int | None = None,
    device: str = "cpu",
    enable_cameras: bool = False,
    seed: int | None = None,
    dataset_compression: bool = True,
    async_write: bool = False,
    early_cpu_offload: bool = False,
    pause_subtask: bool = False,
    show_progress: bool = True,
    dataset_export_mode: DatasetExportMode | None = None,
    torch_threads: int | None = None,
    env_cfg_hook: Callable[[Any], None] | None = None,
) -> GenerationSummary:
    """Generate demos from an annotated source dataset and export the successful ones.

    Args:
        task: A Mimic task id.
        input_file: The annotated source dataset; None builds (once, cached) one for the embedded task.
        output_file: The dataset to create (must not exist).
        num_envs: Parallel environments.
        generation_num_trials: Demos to generate (default: the task's ``datagen_config``).
        max_num_failures: Failed attempts after which to stop (default: the task's ``datagen_config``).
        device: Torch device.
        enable_cameras: Allow camera tasks.
        seed: Seed of the generation (default: the task's ``datagen_config.seed``).
        dataset_compression: gzip the output datasets.
        async_write: Export through the recorder's background writer thread.
        early_cpu_offload: Keep recorded tensors on the CPU from the moment they are recorded.
        pause_subtask: Wait for Enter after each subtask (debugging).
        show_progress: Show a progress bar.
        dataset_export_mode: Overrides the export mode chosen for generation (``EXPORT_NONE`` measures the loop
            without any export).
        torch_threads: Intra-op threads of torch on the CPU; None picks :func:`default_torch_threads`.
        env_cfg_hook: Called with the env config after it is set up and before the env is built (for example to
            change the camera resolution).

    Returns:
        A summary of the run.

    Raises:
        ToolError: On bad input (unknown task, missing input, existing output, a task without the Mimic interface).
    """
    output_dir, output_name = new_dataset_file(output_file, "Output file")
    if input_file is None:
        if task != DEFAULT_TASK and not task.startswith("Isaac-Stack-Cube-Gripper"):
            raise ToolError(f"Task '{task}' needs an annotated source dataset: pass --input_file.")
        input_file = ensure_source_dataset(task, device=device, enable_cameras=enable_cameras)
    existing_file(input_file, "Input file")

    try:
        env_cfg, success_term = setup_env_config(
            env_name=task,
            output_dir=output_dir,
            output_file_name=output_name,
            num_envs=num_envs,
            device=device,
            generation_num_trials=generation_num_trials,
            async_write=async_write,
            early_cpu_offload=early_cpu_offload,
        )
    except (ValueError, RuntimeError, NotImplementedError) as err:
        raise ToolError(str(err)) from None
    check_cameras(task, env_cfg, enable_cameras)
    datagen_config = env_cfg.datagen_config
    if seed is not None:
        datagen_config.seed = seed
    if max_num_failures is not None:
        datagen_config.max_num_failures = max_num_failures
    env_cfg.seed = datagen_config.seed
    env_cfg.recorders.dataset_compression = dataset_compression
    if dataset_export_mode is not None:
        env_cfg.recorders.dataset_export_mode = dataset_export_mode
    if env_cfg_hook is not None:
        env_cfg_hook(env_cfg)
    if torch.device(device).type == "cpu":
        torch.set_num_threads(torch_threads if torch_threads is not None else default_torch_threads())
    _seed_everything(datagen_config.seed)

    env = make_env(task, env_cfg)
    try:
        if not isinstance(env, ManagerBasedRLMimicEnv):
            raise ToolError(f"Task '{task}' is not a Mimic environment (ManagerBasedRLMimicEnv).")
        return _run(env, input_file, success_term, num_envs, pause_subtask, show_progress)
    finally:
        # drains the writer and closes the file, also on Ctrl+C: every demo exported so far is kept
        env.close()


def _run(
    env: ManagerBasedRLMimicEnv,
    input_file: str,
    success_term: Any,
    num_envs: int,
    pause_subtask: bool,
    show_progress: bool,
) -> GenerationSummary:
    env.reset()
    components = setup_async_generation(
        env=env, num_envs=num_envs, input_file=input_file, success_term=success_term, pause_subtask=pause_subtask
    )
    recorder = env.recorder_manager
    total = env.cfg.datagen_config.generation_num_trials
    progress = tqdm(total=total, unit="demo", desc="Generating", disable=not show_progress, dynamic_ncols=True)

    def report(num_success: int, num_failures: int, num_attempts: int) -> None:
        stats = recorder.writer_statistics
        progress.set_postfix(attempts=num_attempts, failed=num_failures, queued=stats.episodes_queued, refresh=False)
        progress.update(num_success - progress.n)

    start = time.perf_counter()
    try:
        counts = env_loop(
            env,
            components["reset_queue"],
            components["action_queue"],
            components["info_pool"],
            components["event_loop"],
            data_generator_tasks=components["tasks"],
            progress_callback=report,
        )
        loop_seconds = time.perf_counter() - start
        recorder.close()
    finally:
        progress.close()
        _close_event_loop(components["event_loop"])
    wall_seconds = time.perf_counter() - start
    return GenerationSummary(
        output_file=_output_path(env),
        num_success=counts["num_success"],
        num_failures=counts["num_failures"],
        num_attempts=counts["num_attempts"],
        loop_seconds=loop_seconds,
        wall_seconds=wall_seconds,
        writer=dataclasses.asdict(recorder.writer_statistics),
    )


def default_torch_threads() -> int:
    """Torch's CPU threads for generation: every core but one, which is left to the dataset writer.

    On few cores, torch's default (one thread per core) makes the simulation's many small tensor operations wait for
    each other whenever any other thread runs, such as the asynchronous writer; measured on 2 cores, a camera run
    took several times longer with 2 threads than with 1. The same count is used with and without ``async_write``,
    so both write identical datasets.
    """
    return max(1, (os.cpu_count() or 1) - 1)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _output_path(env: ManagerBasedRLMimicEnv) -> str:
    recorders = env.cfg.recorders
    return f"{recorders.dataset_export_dir_path}/{recorders.dataset_filename}.hdf5"


def _close_event_loop(event_loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(None)
    event_loop.close()
