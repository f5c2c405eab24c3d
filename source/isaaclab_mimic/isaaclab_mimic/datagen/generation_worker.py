# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""One worker of a distributed Mimic generation: one env batch, one recorder, one shard file.

:class:`GenerationWorker` is plain Python; the driver (:mod:`.distributed_generation`) runs it as a Ray actor with
two threads, one for :meth:`GenerationWorker.run` and one for the :meth:`~GenerationWorker.progress` and
:meth:`~GenerationWorker.stop` calls. Its job is one :func:`~.dataset_generation.generate_dataset` call that writes
the shard, inside the simulation runtime the worker launches, and that :meth:`~GenerationWorker.stop` ends through
a :class:`~.dataset_generation.GenerationStop`. Its counters are the generation loop's (:mod:`.generation`'s
``num_success``, ``num_failures`` and ``num_attempts``: one run per worker process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time
from typing import Any

import torch

from isaaclab.app import launch_simulation, scan

import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)

import isaaclab_tasks  # noqa: F401  (registers the tasks)

from . import generation
from .dataset_generation import GenerationStop, generate_dataset
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
    dataset_compression_threads: int = 1
    """gzip threads of the worker's recorder (by default one: the CPU the worker reserves)."""
    dataset_format: str = "hdf5"
    """``hdf5`` shard files, or ``lerobot`` shard folders (see :mod:`~.dataset_format`)."""
    video_codec: str | None = None
    """The video encoder of ``lerobot`` shards (None: LeRobot's default)."""
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
    dataset_format: str = "hdf5"
    """``hdf5``: the shards are files; ``lerobot``: they are LeRobot dataset folders."""

    @property
    def shard_name(self) -> str:
        """File name of the shard, without ``.hdf5``."""
        return f"shard_{self.index}"

    @property
    def shard_file(self) -> str:
        """The shard the worker writes (a folder for the ``lerobot`` format)."""
        return os.path.join(self.shard_dir, self.shard_name + self._extension)

    @property
    def failed_shard_file(self) -> str:
        """The shard of failed demos, which the worker writes if the export mode keeps them."""
        return os.path.join(self.shard_dir, f"{self.shard_name}{FAILED_SUFFIX}{self._extension}")

    @property
    def _extension(self) -> str:
        return ".hdf5" if self.dataset_format == "hdf5" else ""


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
    compression_threads: int | None = None
    """gzip threads of the recorder the worker's environment was built with (None until it is configured)."""


class GenerationWorker:
    """Generates one share of a run into one shard file."""

    def __init__(self, settings: GenerationSettings, job: WorkerJob) -> None:
        """Keep the settings and the job; :meth:`run` does the work, so that its failures are errors of the run."""
        self._settings = settings
        self._job = job
        self._host = socket.gethostname()
        self._stop = GenerationStop()
        self._setup_seconds = 0.0
        self._generation_start: float | None = None
        self._generation_end: float | None = None
        self._compression_threads: int | None = None

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
            compression_threads=self._compression_threads,
        )

    def stop(self) -> None:
        """End the generation after the current step (attempts in flight are dropped; exported demos are kept)."""
        self._stop.request()

    def run(self) -> WorkerProgress:
        """Generate the job's share into its shard, close the shard and return the final counters.

        Raises:
            FileNotFoundError: If the shard folder or the input file is not visible on this node.
        """

        setup_start = time.perf_counter()
        settings, job = self._settings, self._job
        self._check_visible(job.shard_dir, "shard folder")
        self._check_visible(settings.input_file, "input file")
        if torch.device(settings.device).type == "cuda":
            device = "cuda:0"  # the GPU Ray assigned to this worker (the only one it sees)
        else:
            device = "cpu"
            torch.set_num_threads(settings.torch_threads)

        def on_loop_start() -> None:
            self._generation_start = time.perf_counter()
            self._setup_seconds = self._generation_start - setup_start

        with contextlib.ExitStack() as runtime:

            def configure(env_cfg: Any) -> None:
                """Give the recorder the worker's compression threads; launch the simulation runtime the env config
                needs, until the env is closed, and resolve the config's runtime choices with the same flags."""
                env_cfg.recorders.dataset_compression_threads = settings.dataset_compression_threads
                self._compression_threads = env_cfg.recorders.dataset_compression_threads
                launcher_args = {**settings.launcher_args, "device": env_cfg.sim.device}
                runtime.enter_context(launch_simulation(env_cfg, launcher_args))
                scan(env_cfg, launcher_args)

            generate_dataset(
                env_name=settings.task,
                input_file=settings.input_file,
                output_file=job.shard_file,
                num_envs=settings.num_envs,
                device=device,
                generation_num_trials=job.num_trials,
                max_num_failures=settings.max_num_failures,
                seed=job.seed,
                dataset_compression=settings.dataset_compression,
                async_write=settings.async_write,
                early_cpu_offload=settings.early_cpu_offload,
                env_cfg_hook=configure,
                show_progress=False,
                stop=self._stop,
                on_loop_start=on_loop_start,
                dataset_format=settings.dataset_format,
                video_codec=settings.video_codec,
            )
        self._generation_end = time.perf_counter()
        return self.progress()

    def _check_visible(self, path: str, what: str) -> None:
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The {what} '{path}' is not visible on {self._host}: on a Ray cluster it must be on a file system"
                " that every node shares."
            )
