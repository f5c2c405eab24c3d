# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""One worker of a distributed Mimic generation: one env batch, one recorder, one shard file.

:class:`GenerationWorker` is plain Python; the driver (:mod:`.distributed_generation`) runs it as a Ray actor with
two threads, one for :meth:`GenerationWorker.run` and one for the :meth:`~GenerationWorker.progress` and
:meth:`~GenerationWorker.stop` calls. It uses the generation loop of :mod:`.generation` as is: its counters are
that module's ``num_success``, ``num_failures`` and ``num_attempts`` (one run per worker process), and it stops the
loop through the ``data_gen_tasks`` future that :func:`~.generation.env_loop` watches.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import socket
import threading
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)
import isaaclab_tasks  # noqa: F401  (registers the tasks)
from isaaclab.app import launch_simulation, scan

from . import generation
from .dataset_merge import FAILED_SUFFIX

__all__ = ["GenerationSettings", "GenerationWorker", "WorkerJob", "WorkerProgress"]


@dataclasses.dataclass(frozen=True)
class GenerationSettings:
    """What every worker of a run shares."""

    task: str
    """The Mimic task id."""
    input_file: str
    """The annotated source dataset (visible on every node)."""
    num_envs: int
    """Parallel environments of each worker."""
    device: str
    """``cpu``, or ``cuda`` for the GPU that Ray assigned to the worker."""
    torch_threads: int
    """torch's CPU threads in each worker (its share of the CPUs)."""
    max_num_failures: int
    """Failed attempts after which a worker stops (the driver applies the same cap to the whole run)."""
    dataset_compression: bool
    """gzip the shards."""
    async_write: bool
    """Export through the recorder's background writer thread."""
    early_cpu_offload: bool
    """Keep recorded tensors on the CPU from the moment they are recorded."""
    launcher_args: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The launcher flags (``isaaclab.app.add_launcher_args``) each worker launches its simulation runtime with;
    ``device`` is the worker's."""


@dataclasses.dataclass(frozen=True)
class WorkerJob:
    """What one worker generates, and where."""

    index: int
    """Worker index in the run (rescheduled shares continue the count)."""
    num_trials: int
    """The worker's share of ``generation_num_trials``."""
    seed: int
    """Seed of the worker's env and generator."""
    shard_dir: str
    """Folder of the shard files (visible on every node)."""

    @property
    def shard_name(self) -> str:
        """File name of the shard, without ``.hdf5``."""
        return f"shard_{self.index}"

    @property
    def shard_file(self) -> str:
        """The shard the worker writes."""
        return os.path.join(self.shard_dir, f"{self.shard_name}.hdf5")

    @property
    def failed_shard_file(self) -> str:
        """The shard of failed demos, which the worker writes if the export mode keeps them."""
        return os.path.join(self.shard_dir, f"{self.shard_name}{FAILED_SUFFIX}.hdf5")


@dataclasses.dataclass
class WorkerProgress:
    """A worker's counters, as it reports them."""

    pid: int
    """The worker's process id."""
    host: str
    """The worker's host name."""
    demos: int = 0
    """Successful attempts (exported: handed to the writer queue when asynchronous)."""
    attempts: int = 0
    """Finished attempts."""
    failures: int = 0
    """Failed attempts."""
    setup_seconds: float = 0.0
    """Time to build the env and load the source demos."""
    seconds: float = 0.0
    """Time generating so far, from the first step (at the end: up to the shard being closed)."""


class GenerationWorker:
    """Generates one share of a run into one shard file."""

    def __init__(self, settings: GenerationSettings, job: WorkerJob) -> None:
        """Keep the settings and the job; :meth:`run` does the work, so that its failures are errors of the run."""
        self._settings = settings
        self._job = job
        self._host = socket.gethostname()
        self._setup_seconds = 0.0
        self._generation_start: float | None = None
        self._generation_end: float | None = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._stop_future: asyncio.Future | None = None

    def progress(self) -> WorkerProgress:
        """The counters now."""
        seconds = 0.0
        if self._generation_start is not None:
            end = self._generation_end if self._generation_end is not None else time.perf_counter()
            seconds = end - self._generation_start
        return WorkerProgress(
            pid=os.getpid(),
            host=self._host,
            demos=generation.num_success,
            attempts=generation.num_attempts,
            failures=generation.num_failures,
            setup_seconds=self._setup_seconds,
            seconds=seconds,
        )

    def stop(self) -> None:
        """End the generation after the current step (attempts in flight are dropped; exported demos are kept)."""
        with self._lock:
            self._stop_requested = True
            if self._event_loop is not None and not self._event_loop.is_closed():
                self._event_loop.call_soon_threadsafe(self._resolve_stop_future)

    def run(self) -> WorkerProgress:
        """Generate the job's share into its shard, close the shard and return the final counters.

        Raises:
            FileNotFoundError: If the shard folder or the input file is not visible on this node.
        """
        setup_start = time.perf_counter()
        self._check_visible(self._job.shard_dir, "shard folder")
        self._check_visible(self._settings.input_file, "input file")
        env_cfg, success_term = self._make_env_cfg()
        launcher_args = {**self._settings.launcher_args, "device": env_cfg.sim.device}
        with launch_simulation(env_cfg, launcher_args):
            scan(env_cfg, launcher_args)
            env = gym.make(self._settings.task, cfg=env_cfg).unwrapped
            try:
                self._generate(env, success_term, setup_start)
            finally:
                env.close()
        self._generation_end = time.perf_counter()
        return self.progress()

    def _generate(self, env: Any, success_term: Any, setup_start: float) -> None:
        """Run the generation loop until the share is generated or :meth:`stop` is called."""
        env.reset()
        # the generation code may use the current thread's event loop, and Ray runs this on a thread without one
        own_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(own_loop)
        components = generation.setup_async_generation(
            env=env, num_envs=self._settings.num_envs, input_file=self._settings.input_file, success_term=success_term
        )
        event_loop, tasks = components["event_loop"], components["tasks"]
        if event_loop is not own_loop:
            own_loop.close()
        try:
            self._setup_seconds = time.perf_counter() - setup_start
            self._generation_start = time.perf_counter()
            generation.env_loop(
                env,
                components["reset_queue"],
                components["action_queue"],
                components["info_pool"],
                event_loop,
                data_gen_tasks=self._watch(event_loop, tasks),
            )
        finally:
            self._close_event_loop(event_loop, tasks)

    def _make_env_cfg(self) -> tuple[Any, Any]:
        """The config of the worker's env (its recorder writes the shard), seeded with the job's seed; the global
        generators are seeded too."""
        settings, job = self._settings, self._job
        if torch.device(settings.device).type == "cuda":
            device = "cuda:0"  # the GPU Ray assigned to this worker (the only one it sees)
        else:
            device = "cpu"
            torch.set_num_threads(settings.torch_threads)
        env_cfg, success_term = generation.setup_env_config(
            env_name=settings.task,
            output_dir=job.shard_dir,
            output_file_name=job.shard_name,
            num_envs=settings.num_envs,
            device=device,
            generation_num_trials=job.num_trials,
            dataset_compression=settings.dataset_compression,
        )
        env_cfg.recorders.async_write = settings.async_write
        env_cfg.recorders.early_cpu_offload = settings.early_cpu_offload
        env_cfg.datagen_config.seed = job.seed
        env_cfg.datagen_config.max_num_failures = settings.max_num_failures
        env_cfg.seed = job.seed
        random.seed(job.seed)
        np.random.seed(job.seed)
        torch.manual_seed(job.seed)
        return env_cfg, success_term

    def _watch(self, event_loop: asyncio.AbstractEventLoop, tasks: list[asyncio.Task]) -> asyncio.Future:
        """A future the env loop watches: done when the generation tasks end (with their error) or on :meth:`stop`."""
        future = event_loop.create_future()

        def on_tasks_done(gathered: asyncio.Future) -> None:
            error = None if gathered.cancelled() else gathered.exception()
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(None)

        asyncio.gather(*tasks).add_done_callback(on_tasks_done)
        with self._lock:
            self._event_loop, self._stop_future = event_loop, future
            if self._stop_requested:
                future.set_result(None)
        return future

    def _resolve_stop_future(self) -> None:
        if self._stop_future is not None and not self._stop_future.done():
            self._stop_future.set_result(None)

    def _close_event_loop(self, event_loop: asyncio.AbstractEventLoop, tasks: list[asyncio.Task]) -> None:
        """Cancel the generation tasks still running (attempts in flight), let them unwind, close the loop."""
        self._resolve_stop_future()
        for task in tasks:
            task.cancel()
        event_loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        with self._lock:
            event_loop.close()
        asyncio.set_event_loop(None)

    def _check_visible(self, path: str, what: str) -> None:
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The {what} '{path}' is not visible on {self._host}: on a Ray cluster it must be on a file system"
                " that every node shares."
            )
