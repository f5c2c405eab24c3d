# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""One Mimic data generation job as a function: build the environment, generate, export and close.

``generate_dataset.py`` runs one job in its process; a distributed run runs one per worker
(:class:`~.generation_worker.GenerationWorker`), which ends it early through a :class:`GenerationStop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tqdm import tqdm

from isaaclab.envs import ManagerBasedRLMimicEnv
from isaaclab.managers import DatasetExportMode

from isaaclab_mimic.datagen.dataset_format import check_new_dataset, configure_dataset_format, dataset_output_path
from isaaclab_mimic.datagen.generation import env_loop, setup_async_generation, setup_env_config

TASK_CANCEL_TIMEOUT_S = 5.0
"""How long the generation tasks may take to unwind once cancelled, before the environment is closed anyway."""


class GenerationStop:
    """A request, from any thread, to end a generation job early.

    :func:`generate_dataset` ends its loop after the current step once :meth:`request` is called: the attempts in
    flight are dropped, the demos exported so far are kept. A request made before the loop starts ends it before
    its first step. A handle serves one job.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._future: asyncio.Future | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._requested

    def request(self) -> None:
        """Ask the job to end after its current step (thread-safe; a repeated request changes nothing)."""
        with self._lock:
            self._requested = True
            if self._event_loop is not None:
                self._event_loop.call_soon_threadsafe(self._resolve)

    def _watch(self, event_loop: asyncio.AbstractEventLoop, data_gen_tasks: asyncio.Future) -> asyncio.Future:
        """A future for the env loop to watch in place of ``data_gen_tasks``: done with their outcome when the tasks
        end, or with ``None`` on a request (at once if one was made already)."""
        future = event_loop.create_future()

        def on_tasks_done(gathered: asyncio.Future) -> None:
            error = None if gathered.cancelled() else gathered.exception()
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(None)

        data_gen_tasks.add_done_callback(on_tasks_done)
        with self._lock:
            self._event_loop, self._future = event_loop, future
            if self._requested:
                future.set_result(None)
        return future

    def _resolve(self) -> None:
        """Complete the watched future (on the event loop's thread)."""
        if self._future is not None and not self._future.done():
            self._future.set_result(None)

    def _detach(self) -> None:
        """Forget the event loop before it is closed: a later request only sets the flag."""
        with self._lock:
            self._event_loop = self._future = None


@dataclasses.dataclass
class GenerationSummary:
    """What a generation job produced."""

    output_file: str
    """The generated dataset file."""

    num_success: int
    """Successful attempts."""

    num_failures: int
    """Failed attempts."""

    num_attempts: int
    """Finished attempts."""

    loop_seconds: float
    """Time of the generation loop, from the first step to the last (without the final drain of the writer)."""

    wall_seconds: float
    """Time from the first step to the dataset file being closed (the writer drained)."""

    export_seconds: float
    """Time the loop spent in the recorder's export calls."""

    writer: dict[str, Any]
    """The recorder's writer statistics at the end (see :class:`~isaaclab.utils.datasets.WriterStatistics`)."""

    @property
    def success_rate(self) -> float:
        """Percentage of attempts that succeeded."""
        return 100.0 * self.num_success / self.num_attempts if self.num_attempts else 0.0


def generate_dataset(
    env_name: str,
    input_file: str,
    output_file: str,
    num_envs: int = 1,
    device: str = "cpu",
    generation_num_trials: int | None = None,
    max_num_failures: int | None = None,
    seed: int | None = None,
    dataset_compression: bool = True,
    async_write: bool = False,
    early_cpu_offload: bool = False,
    pause_subtask: bool = False,
    dataset_export_mode: DatasetExportMode | None = None,
    env_cfg_hook: Callable[[Any], None] | None = None,
    make_motion_planners: Callable[[ManagerBasedRLMimicEnv], dict[int, Any]] | None = None,
    show_progress: bool = True,
    stop: GenerationStop | None = None,
    on_loop_start: Callable[[], None] | None = None,
    dataset_format: str = "hdf5",
    video_codec: str | None = None,
) -> GenerationSummary:
    """Generate demos from an annotated source dataset and export them to a new dataset file.

    The environment is closed at the end, also on an error or Ctrl+C: the recorder then writes every demo exported
    so far, and the file is complete and readable.

    Args:
        env_name: A registered Mimic task.
        input_file: The annotated source dataset.
        output_file: The dataset file to create (``.hdf5`` is appended if missing); it must not exist. With the
            ``lerobot`` format, the dataset folder (a trailing ``.hdf5`` is dropped); it must not exist or be empty.
        num_envs: Parallel environments.
        device: Torch device of the environment.
        generation_num_trials: Demos to generate (default: the task's ``datagen_config``).
        max_num_failures: Failed attempts after which to stop (default: the task's ``datagen_config``).
        seed: Seed of the generation and the environment (default: the task's ``datagen_config.seed``).
        dataset_compression: Whether to gzip the datasets.
        async_write: Whether the recorder writes on a background thread.
        early_cpu_offload: Whether the recorder moves recorded tensors to the CPU as they are recorded.
        pause_subtask: Whether to wait for the Enter key after each subtask (debugging).
        dataset_export_mode: Overrides the export mode chosen for generation (``EXPORT_NONE`` runs the loop without
            any export).
        env_cfg_hook: Called with the environment config before the environment is built.
        make_motion_planners: Builds one motion planner per environment id (SkillGen) once the environment exists.
        show_progress: Whether to show a progress bar.
        stop: Ends the generation early when requested, from any thread (see :class:`GenerationStop`).
        on_loop_start: Called once the environment is built and the source demos are loaded, right before the
            generation loop's first step.
        dataset_format: ``hdf5`` (Isaac Lab's dataset file) or ``lerobot`` (a LeRobot v3.0 dataset folder, camera
            observations encoded as video; see :mod:`isaaclab.utils.datasets.lerobot`).
        video_codec: With the ``lerobot`` format, the video encoder (``libsvtav1``, LeRobot's default when None;
            ``libx264``; ``h264_nvenc``...).

    Returns:
        A summary of the job.

    Raises:
        FileNotFoundError: If the input file does not exist.
        FileExistsError: If the output file exists (or the LeRobot folder is not empty).
        ValueError: If the task is not a Mimic environment, or the dataset format is unknown.
    """
    if not os.path.isfile(input_file):
        raise FileNotFoundError(f"The source dataset file '{input_file}' does not exist.")
    output_file = dataset_output_path(output_file, dataset_format)
    check_new_dataset(output_file, dataset_format)
    output_dir, output_file_name = os.path.split(output_file)

    env_cfg, success_term = setup_env_config(
        env_name=env_name,
        output_dir=output_dir,
        output_file_name=output_file_name[: -len(".hdf5")] if dataset_format == "hdf5" else output_file_name,
        num_envs=num_envs,
        device=device,
        generation_num_trials=generation_num_trials,
        dataset_compression=dataset_compression,
        async_write=async_write,
        early_cpu_offload=early_cpu_offload,
    )
    datagen_config = env_cfg.datagen_config
    if seed is not None:
        datagen_config.seed = seed
    if max_num_failures is not None:
        datagen_config.max_num_failures = max_num_failures
    if dataset_export_mode is not None:
        env_cfg.recorders.dataset_export_mode = dataset_export_mode
    configure_dataset_format(env_cfg.recorders, dataset_format, task=None, video_codec=video_codec)
    env_cfg.seed = datagen_config.seed
    if env_cfg_hook is not None:
        env_cfg_hook(env_cfg)

    # Set seed for generation
    random.seed(datagen_config.seed)
    np.random.seed(datagen_config.seed)
    torch.manual_seed(datagen_config.seed)

    env = gym.make(env_name, cfg=env_cfg).unwrapped
    start = time.perf_counter()
    try:
        if not isinstance(env, ManagerBasedRLMimicEnv):
            raise ValueError(f"The environment of '{env_name}' should be derived from ManagerBasedRLMimicEnv.")
        motion_planners = make_motion_planners(env) if make_motion_planners is not None else None
        try:
            counts, loop_seconds = _run(
                env,
                input_file,
                success_term,
                num_envs,
                pause_subtask,
                show_progress,
                motion_planners,
                stop,
                on_loop_start,
            )
        finally:
            _close_motion_planners(motion_planners)
    finally:
        # writes every demo exported so far and closes the file, also on an error or Ctrl+C
        env.close()
    recorder = env.recorder_manager
    statistics = recorder.writer_statistics
    return GenerationSummary(
        output_file=output_file,
        loop_seconds=loop_seconds,
        wall_seconds=time.perf_counter() - start,
        export_seconds=recorder.export_seconds,
        writer=dataclasses.asdict(statistics) if statistics is not None else {},
        **counts,
    )


def _run(
    env: ManagerBasedRLMimicEnv,
    input_file: str,
    success_term: Any,
    num_envs: int,
    pause_subtask: bool,
    show_progress: bool,
    motion_planners: dict[int, Any] | None,
    stop: GenerationStop | None,
    on_loop_start: Callable[[], None] | None,
) -> tuple[dict[str, int], float]:
    """Run the generation tasks in the env loop; returns the final counts and the loop's seconds."""
    # Reset before starting
    env.reset()
    components = setup_async_generation(
        env=env,
        num_envs=num_envs,
        input_file=input_file,
        success_term=success_term,
        pause_subtask=pause_subtask,
        motion_planners=motion_planners,
    )
    event_loop = components["event_loop"]
    data_gen_tasks = asyncio.ensure_future(asyncio.gather(*components["tasks"]), loop=event_loop)
    watched = stop._watch(event_loop, data_gen_tasks) if stop is not None else data_gen_tasks
    recorder = env.recorder_manager
    total = env.cfg.datagen_config.generation_num_trials
    progress = tqdm(total=total, unit="demo", desc="Generating", disable=not show_progress, dynamic_ncols=True)

    def report(num_success: int, num_failures: int, num_attempts: int) -> None:
        statistics = recorder.writer_statistics
        queued = statistics.episodes_queued if statistics is not None else 0
        progress.set_postfix(attempts=num_attempts, failed=num_failures, queued=queued, refresh=False)
        progress.update(min(num_success, total) - progress.n)

    try:
        if on_loop_start is not None:
            on_loop_start()
        start = time.perf_counter()
        counts = env_loop(
            env,
            components["reset_queue"],
            components["action_queue"],
            components["info_pool"],
            event_loop,
            data_gen_tasks=watched,
            progress_callback=report,
        )
        return counts, time.perf_counter() - start
    finally:
        progress.close()
        _cancel_tasks(event_loop, components["tasks"], data_gen_tasks, watched)
        if stop is not None:
            stop._detach()
        asyncio.set_event_loop(None)
        event_loop.close()


def _cancel_tasks(
    event_loop: asyncio.AbstractEventLoop,
    tasks: list[asyncio.Task],
    data_gen_tasks: asyncio.Future,
    watched: asyncio.Future,
) -> None:
    """Cancel the generation tasks and let them unwind before the environment closes.

    Each task is cancelled and awaited on its own: a Ctrl+C that lands inside the event loop can drop the callback
    that would complete their gathered future, so waiting on that future could wait forever. The wait is bounded
    all the same, and every outcome is retrieved (of the tasks, their gathered future and the future the env loop
    watched) so that asyncio reports nothing at exit.
    """
    for task in tasks:
        task.cancel()
    data_gen_tasks.cancel()
    unwound = asyncio.gather(*tasks, return_exceptions=True)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        event_loop.run_until_complete(asyncio.wait([unwound], timeout=TASK_CANCEL_TIMEOUT_S))
    for future in (unwound, data_gen_tasks, watched):
        if future.done() and not future.cancelled():
            future.exception()


def _close_motion_planners(motion_planners: dict[int, Any] | None) -> None:
    """Close the plan visualizers of the motion planners."""
    for planner in (motion_planners or {}).values():
        if getattr(planner, "plan_visualizer", None) is not None:
            planner.plan_visualizer.close()
            planner.plan_visualizer = None
