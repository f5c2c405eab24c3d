# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Mimic data generation scaled out on Ray: several workers (processes, GPUs, machines), one dataset.

:func:`generate_distributed` is the driver. It splits ``generation_num_trials`` over the workers
(:func:`split_trials`) and starts one Ray actor per share (:class:`~.generation_worker.GenerationWorker`). A worker
owns one batch of ``num_envs`` environments with their recorder (asynchronous if asked), runs the generation loop
of :mod:`.generation` with its own seed (:func:`worker_seed`) until its share is generated, and writes its own shard
file ``<output>_shards/shard_<k>.hdf5``. With a CUDA device each worker gets one GPU of its own (Ray assigns it);
otherwise each worker takes one CPU.

The driver shows one progress bar for the whole run, stops every worker when the total is reached (or the failure
cap, or Ctrl-C), and merges the shards into the output file (:func:`~.dataset_merge.merge_datasets`), the
``_failed`` shards too where the export mode writes them.

Faults: a worker whose process dies (killed, out of memory, lost node) keeps the demos its shard holds (the
recorder's files are crash-safe) and its remaining share is rescheduled on a new worker, with a new seed, up to
``max_reschedules`` times in a run; past that the run stops with an error. A worker that raises stops the run
with an error (the exception would repeat). Either way the demos written so far are merged into a valid output
file, and the summary (:class:`~.distributed_summary.DistributedGenerationSummary`) says what happened. Ctrl-C
stops the workers, merges what was written and re-raises. Shards that cannot be merged (a corrupt demo) are kept,
and the error says how to merge them. Joining a cluster (:func:`~.ray_connection.connect_ray`) waits a bounded time
and fails with what to do.

With the ``lerobot`` dataset format, each shard is a LeRobot dataset folder, the shard of a worker that died is
recovered (its complete episodes kept) and the shards are merged into one LeRobot dataset.

Ray is an optional dependency: the ``ray`` extra of ``isaaclab_mimic``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import torch
from tqdm import tqdm

try:
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError
except ImportError as error:
    raise ImportError(
        "Distributed generation runs on Ray, which is not installed. Install the 'ray' extra of isaaclab_mimic:"
        " pip install 'isaaclab_mimic[ray]' (in an Isaac Lab checkout: pip install -e 'source/isaaclab_mimic[ray]')."
    ) from error

from isaaclab.utils.datasets import HDF5DatasetFileHandler

from .dataset_format import check_new_dataset, dataset_output_path
from .dataset_merge import FAILED_SUFFIX, DemoReadError, MergeResult, merge_datasets, read_demo_names
from .distributed_summary import DistributedGenerationError, DistributedGenerationSummary, WorkerStatus
from .generation_worker import GenerationSettings, GenerationWorker, WorkerJob
from .ray_connection import DEFAULT_CONNECT_TIMEOUT, connect_ray

__all__ = ["generate_distributed", "split_trials", "worker_seed"]

POLL_SECONDS = 0.25
"""How often the driver polls the workers' progress."""

CPUS_PER_WORKER = 1
"""CPUs a worker reserves (and its torch threads on the CPU)."""

KILL_WAIT_SECONDS = 10.0
"""How long the driver waits for a killed worker to be gone (and its files released) before merging."""


def split_trials(total: int, num_workers: int) -> list[int]:
    """Split ``total`` trials over at most ``num_workers`` workers, as evenly as possible.

    The first ``total % num_workers`` workers get one trial more; workers that would get none are left out.

    Raises:
        ValueError: If ``total`` or ``num_workers`` is smaller than 1.
    """
    if total < 1 or num_workers < 1:
        raise ValueError(f"Need at least one trial and one worker, got {total} trial(s) and {num_workers} worker(s).")
    base, extra = divmod(total, num_workers)
    return [base + (index < extra) for index in range(min(total, num_workers))]


def worker_seed(seed: int, worker_index: int) -> int:
    """The seed of worker ``worker_index`` of a run seeded with ``seed``: distinct for every worker of the run
    (rescheduled shares get new indices, so new seeds)."""
    return seed + worker_index


_RemoteGenerationWorker = ray.remote(max_concurrency=2)(GenerationWorker)
"""The worker as a Ray actor: :meth:`GenerationWorker.run` on one thread, progress and stop calls on another."""


def generate_distributed(
    task: str,
    input_file: str,
    output_file: str,
    num_workers: int,
    generation_num_trials: int | None = None,
    num_envs: int = 1,
    device: str = "cpu",
    seed: int | None = None,
    max_num_failures: int | None = None,
    dataset_compression: bool = True,
    async_write: bool = False,
    early_cpu_offload: bool = False,
    dataset_compression_threads: int | None = None,
    ray_address: str | None = None,
    ray_connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    launcher_args: dict[str, Any] | None = None,
    max_reschedules: int | None = None,
    show_progress: bool = True,
    status_callback: Callable[[list[WorkerStatus]], None] | None = None,
    log: Callable[[str], None] = tqdm.write,
    dataset_format: str = "hdf5",
    video_codec: str | None = None,
) -> DistributedGenerationSummary:
    """Generate demos on Ray workers and merge their shards into one dataset.

    Uses the Ray instance this process is connected to, if any; otherwise connects to ``ray_address`` or, without
    one, starts a local instance, and disconnects (stopping a local instance) at the end.

    Args:
        task: A Mimic task id.
        input_file: The annotated source dataset (every worker reads it: on a cluster, a shared path).
        output_file: The dataset to create (``.hdf5`` appended if missing; it must not exist). The shards go to
            the folder ``<output_file without .hdf5>_shards`` (on a cluster, it must be shared by every node),
            removed once merged.
        num_workers: Ray workers (at most one per trial).
        generation_num_trials: Demos to generate in all (default: the task's ``datagen_config``).
        num_envs: Parallel environments of each worker.
        device: ``cpu`` (one CPU per worker) or ``cuda`` (one GPU per worker).
        seed: Seed of the run; worker k uses :func:`worker_seed` (default: the task's ``datagen_config.seed``).
        max_num_failures: Failed attempts, over all workers, after which the run stops (default: the task's).
        dataset_compression: gzip the datasets.
        async_write: Each worker exports through its recorder's background writer thread.
        early_cpu_offload: Each worker keeps recorded tensors on the CPU from the moment they are recorded.
        dataset_compression_threads: gzip threads of each worker's recorder (default: 1, the CPU the worker
            reserves).
        ray_address: Address of a Ray cluster to join (when this process is not connected yet).
        ray_connect_timeout: Seconds to wait for the cluster at ``ray_address`` to accept this process.
        launcher_args: The launcher flags (``isaaclab.app.add_launcher_args``, e.g. ``vars(args_cli)`` of a script;
            picklable values) each worker launches its simulation runtime with (default: headless).
        max_reschedules: How many times in the run the remaining share of a dead worker is rescheduled (default:
            ``num_workers``); 0 stops the run at the first dead worker.
        show_progress: Show a progress bar.
        status_callback: Called with every worker's status each time the driver polls them.
        log: Where messages and the final summary go.
        dataset_format: ``hdf5``, or ``lerobot``: every worker writes a LeRobot dataset folder, the output is a LeRobot
            dataset folder (a trailing ``.hdf5`` is dropped) and the shards are merged with
            :func:`~isaaclab.utils.datasets.lerobot.merge_lerobot_datasets` (a dead worker's shard is recovered first).
        video_codec: The video encoder of the ``lerobot`` format (None: LeRobot's default).

    Returns:
        The summary (also written to ``log``).

    Raises:
        FileNotFoundError: If the input file does not exist.
        FileExistsError: If the output file or its shard folder exists.
        ValueError: If the cluster has fewer CPUs or GPUs than workers, or a setting is out of range.
        ConnectionError: If the Ray cluster at ``ray_address`` cannot be joined (see
            :func:`~.ray_connection.connect_ray`).
        DistributedGenerationError: If a worker failed and the run stopped (after merging what was written), or the
            shards cannot be merged (they are then kept).
        KeyboardInterrupt: On Ctrl-C, after stopping the workers and merging what was written.
    """
    output_file = dataset_output_path(output_file, dataset_format)
    input_file = os.path.abspath(input_file)
    shard_dir = output_file.removesuffix(".hdf5") + "_shards"
    if not os.path.isfile(input_file):
        raise FileNotFoundError(f"Input file '{input_file}' does not exist.")
    check_new_dataset(output_file, dataset_format)
    if os.path.exists(shard_dir):
        raise FileExistsError(
            f"The shard folder '{shard_dir}' exists (left by an interrupted run?): merge it with"
            " scripts/tools/merge_hdf5_datasets.py or remove it."
        )
    if dataset_compression_threads is not None and dataset_compression_threads < 1:
        raise ValueError(f"dataset_compression_threads must be positive, got {dataset_compression_threads}.")
    import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)

    from isaaclab_tasks.utils import parse_env_cfg

    datagen_config = parse_env_cfg(task, device="cpu", num_envs=1).datagen_config
    settings = GenerationSettings(
        task=task,
        input_file=input_file,
        num_envs=num_envs,
        device=device,
        torch_threads=CPUS_PER_WORKER,
        max_num_failures=max_num_failures if max_num_failures is not None else datagen_config.max_num_failures,
        dataset_compression=dataset_compression,
        async_write=async_write,
        early_cpu_offload=early_cpu_offload,
        dataset_compression_threads=dataset_compression_threads or CPUS_PER_WORKER,
        launcher_args=dict(launcher_args) if launcher_args is not None else {"headless": True},
        dataset_format=dataset_format,
        video_codec=video_codec,
    )
    total = generation_num_trials if generation_num_trials is not None else datagen_config.generation_num_trials
    shares = split_trials(total, num_workers)
    base_seed = seed if seed is not None else datagen_config.seed

    connected_here = not ray.is_initialized()
    if connected_here:
        connect_ray(ray_address, ray_connect_timeout, log=log)
    try:
        _check_resources(len(shares), device)
        os.makedirs(shard_dir)
        run = _DistributedRun(
            settings=settings,
            total=total,
            generation_guarantee=datagen_config.generation_guarantee,
            base_seed=base_seed,
            shard_dir=shard_dir,
            max_reschedules=max_reschedules if max_reschedules is not None else num_workers,
            show_progress=show_progress,
            status_callback=status_callback,
            log=log,
        )
        run.execute(shares)
    finally:
        if connected_here:
            ray.shutdown()
    summary = run.merge_and_summarize(output_file, task)
    log(summary.report())
    if run.interrupted:
        raise KeyboardInterrupt
    if summary.outcome == "failed":
        raise DistributedGenerationError(
            f"{summary.message} The demos written so far are in {summary.output_file}.", summary
        )
    if summary.outcome == "merge failed":
        raise DistributedGenerationError(summary.message, summary)
    return summary


def _check_resources(num_workers: int, device: str) -> None:
    """Raise ValueError if the cluster cannot run every worker at once (actors would wait forever)."""
    needed = {"CPU": num_workers * CPUS_PER_WORKER}
    if torch.device(device).type == "cuda":
        needed["GPU"] = num_workers
    available = ray.cluster_resources()
    for resource, amount in needed.items():
        if available.get(resource, 0) < amount:
            raise ValueError(
                f"{num_workers} workers on '{device}' need {amount} {resource}s, but the Ray cluster has"
                f" {int(available.get(resource, 0))}: use fewer workers or a larger cluster."
            )


@dataclasses.dataclass
class _Worker:
    """A running worker: its actor and its status."""

    actor: Any
    status: WorkerStatus


class _DistributedRun:
    """The driver's state: starts workers, polls them, handles their ends, and merges their shards."""

    def __init__(
        self,
        settings: GenerationSettings,
        total: int,
        generation_guarantee: bool,
        base_seed: int,
        shard_dir: str,
        max_reschedules: int,
        show_progress: bool,
        status_callback: Callable[[list[WorkerStatus]], None] | None,
        log: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._total = total
        self._guarantee = generation_guarantee
        self._base_seed = base_seed
        self._shard_dir = shard_dir
        self._reschedules_left = max_reschedules
        self._show_progress = show_progress
        self._status_callback = status_callback
        self._log = log
        self._statuses: list[WorkerStatus] = []
        self._active: dict[ray.ObjectRef, _Worker] = {}
        self._stopping = False
        self._outcome = "complete"
        self._messages: list[str] = []
        self._seconds = 0.0
        self._unreadable_shards: list[str] = []
        self.interrupted = False

    """
    Running.
    """

    def execute(self, shares: list[int]) -> None:
        """Run the workers until every one has ended; a first Ctrl-C stops them, a second one kills them."""
        start = time.perf_counter()
        progress = tqdm(
            total=self._total, unit="demo", desc="Generating", disable=not self._show_progress, dynamic_ncols=True
        )
        try:
            for share in shares:
                self._start_worker(share)
            while self._active:
                try:
                    self._poll(progress)
                except KeyboardInterrupt:
                    if self.interrupted:
                        self._log("Interrupted again: killing the workers (their shards keep every flushed demo).")
                        self._kill_active("killed")
                        break
                    self.interrupted = True
                    self._outcome = "interrupted"
                    self._log("Interrupted: stopping the workers (press Ctrl-C again to kill them).")
                    self._stop_all()
        finally:
            self._kill_active("killed")
            progress.close()
            self._seconds = time.perf_counter() - start

    def _start_worker(self, num_trials: int) -> WorkerStatus:
        index = len(self._statuses)
        job = WorkerJob(
            index, num_trials, worker_seed(self._base_seed, index), self._shard_dir, self._settings.dataset_format
        )
        num_gpus = 1 if torch.device(self._settings.device).type == "cuda" else 0
        actor = _RemoteGenerationWorker.options(num_cpus=CPUS_PER_WORKER, num_gpus=num_gpus).remote(self._settings, job)
        status = WorkerStatus(job=job)
        self._statuses.append(status)
        self._active[actor.run.remote()] = _Worker(actor, status)
        return status

    def _poll(self, progress: tqdm) -> None:
        """Wait a little for a worker to end, then refresh the others' progress and the progress bar."""
        ready, _ = ray.wait(list(self._active), num_returns=1, timeout=POLL_SECONDS)
        for ref in ready:
            self._on_worker_end(ref, self._active.pop(ref))
        self._refresh_progress()
        done = sum(self._done(status) for status in self._statuses)
        failures = sum(status.progress.failures for status in self._statuses if status.progress is not None)
        if not self._stopping and done >= self._total:
            self._stop_all()
        elif not self._stopping and self._failure_cap_reached(failures):
            self._outcome = "failure cap"
            self._messages.append(f"Stopped after {failures} failed attempts (max_num_failures).")
            self._stop_all()
        attempts = sum(status.progress.attempts for status in self._statuses if status.progress is not None)
        rates = " ".join(f"w{status.job.index}={status.rate:.2f}/s" for status in self._statuses)
        progress.set_postfix_str(f"attempts={attempts} failed={failures} {rates}", refresh=False)
        progress.update(sum(status.demos for status in self._statuses) - progress.n)
        if self._status_callback is not None:
            self._status_callback(list(self._statuses))

    def _failure_cap_reached(self, failures: int) -> bool:
        """Whether the run has ``max_num_failures`` failed attempts (a bound only with the generation guarantee, as
        in :func:`~.generation.env_loop`)."""
        cap = self._settings.max_num_failures
        return self._guarantee and cap is not None and failures >= cap

    def _refresh_progress(self) -> None:
        """Ask every running worker for its counters (a worker that does not answer in time keeps its old ones)."""
        requests = {worker.actor.progress.remote(): worker.status for worker in self._active.values()}
        ready, _ = ray.wait(list(requests), num_returns=len(requests), timeout=1.0)
        for ref in ready:
            try:
                progress = ray.get(ref)
            except RayError:
                continue  # the worker died: its run() reports it
            status = requests[ref]
            status.progress = progress
            if status.state == "starting":
                status.state = "running"

    def _done(self, status: WorkerStatus) -> int:
        """What counts toward ``generation_num_trials``: demos, or attempts without a generation guarantee."""
        if status.kept_demos is not None or status.progress is None or self._guarantee:
            return status.demos
        return status.progress.attempts

    def _stop_all(self) -> None:
        self._stopping = True
        for worker in self._active.values():
            worker.actor.stop.remote()

    def _on_worker_end(self, ref: ray.ObjectRef, worker: _Worker) -> None:
        status = worker.status
        try:
            status.progress = ray.get(ref)
            status.state = "stopped" if self._done(status) < status.job.num_trials else "done"
        except RayTaskError as err:
            self._on_worker_error(status, f"{type(err.cause).__name__}: {err.cause}", str(err))
        except RayActorError as err:
            if err.actor_init_failed:  # the actor could not even be created (an import error, say): it would repeat
                self._on_worker_error(status, _first_line(str(err)), str(err))
            else:
                status.state = "died"
                status.error = _first_line(str(err))
                self._on_worker_death(status)
        _kill_and_wait([worker.actor])

    def _on_worker_error(self, status: WorkerStatus, error: str, details: str) -> None:
        """A worker raised: stop the run (the error would repeat on a rescheduled worker)."""
        status.state = "failed"
        status.error = error
        self._log(f"Worker {status.job.index} raised an exception:\n{details}")
        self._fail(f"Worker {status.job.index} failed ({error})")

    def _on_worker_death(self, status: WorkerStatus) -> None:
        """Count the demos its shard kept, then reschedule the rest of its share (or stop the run)."""
        job = status.job
        status.kept_demos = _count_demos(job.shard_file)
        kept = status.kept_demos
        if not self._guarantee:
            kept += _count_demos(job.failed_shard_file)
        remaining = job.num_trials - kept
        what = f"Worker {job.index} (pid {status.progress.pid if status.progress else '?'}) died"
        what += f" after {status.kept_demos} of its {job.num_trials} demos ({status.error})"
        if self._stopping or remaining <= 0:
            self._messages.append(f"{what}.")
        elif self._reschedules_left > 0:
            self._reschedules_left -= 1
            replacement = self._start_worker(remaining)
            status.rescheduled_as = replacement.job.index
            self._messages.append(
                f"{what}; its remaining {remaining} demos were rescheduled on worker {replacement.job.index}."
            )
            self._log(self._messages[-1])
        else:
            self._fail(f"{what}; no reschedule is left (max_reschedules)")

    def _fail(self, reason: str) -> None:
        """Record why a worker ended the run; the first such reason stops every worker."""
        message = f"{reason}." if self._outcome == "failed" else f"{reason}; the run stopped."
        self._outcome = "failed"
        self._messages.append(message)
        self._log(message)
        self._stop_all()

    def _kill_active(self, state: str) -> None:
        workers = list(self._active.values())
        self._active.clear()
        _kill_and_wait([worker.actor for worker in workers])
        for worker in workers:
            worker.status.state = state
            worker.status.kept_demos = _count_demos(worker.status.job.shard_file)

    """
    Merging.
    """

    def merge_and_summarize(self, output_file: str, task: str) -> DistributedGenerationSummary:
        """Merge the shards into the output (and the failed shards into ``<output>_failed.hdf5``), remove the
        shard folder, and summarize the run. Shards that cannot be merged (a corrupt demo, say) are kept, and the
        summary says how to merge them."""
        shards = self._shard_files(failed=False)
        failed_shards = self._shard_files(failed=True)
        merge = failed_output = None
        lerobot = self._settings.dataset_format == "lerobot"
        merge_shards = _merge_lerobot_shards if lerobot else merge_datasets
        try:
            if shards:
                merge = merge_shards(shards, output_file, max_demos=self._total)
            elif not lerobot:  # a LeRobot dataset cannot be empty: no folder is made
                handler = HDF5DatasetFileHandler()
                handler.create(output_file, env_name=task)
                handler.close()
            if failed_shards:
                failed_output = output_file.removesuffix(".hdf5") + FAILED_SUFFIX + ("" if lerobot else ".hdf5")
                merge_shards(failed_shards, failed_output)
        except (OSError, ValueError) as error:  # a shard that cannot be read, a full disk
            self._outcome = "merge failed"
            hint = " (--skip_bad_demos leaves unreadable demos out)" if isinstance(error, DemoReadError) else ""
            if lerobot:
                how = f"isaaclab.utils.datasets.lerobot.merge_lerobot_datasets (into '{output_file}')"
            else:
                how = (
                    f"scripts/tools/merge_hdf5_datasets.py --input_files {self._shard_dir} --output_file"
                    f" {output_file}{hint}"
                )
            self._messages.append(
                f"The shards could not be merged: {error} They are kept in '{self._shard_dir}': merge them with {how}."
            )
        else:
            if self._unreadable_shards:
                self._messages.append(
                    f"Shards that cannot be read as datasets were left out of the merge and kept in"
                    f" '{self._shard_dir}': {', '.join(map(os.path.basename, self._unreadable_shards))}."
                )
            else:
                shutil.rmtree(self._shard_dir)
        progresses = [status.progress for status in self._statuses if status.progress is not None]
        return DistributedGenerationSummary(
            output_file=output_file,
            failed_output_file=failed_output,
            requested=self._total,
            num_demos=merge.num_demos if merge is not None else 0,
            num_attempts=sum(progress.attempts for progress in progresses),
            num_failures=sum(progress.failures for progress in progresses),
            workers=self._statuses,
            generation_seconds=self._seconds,
            merge=merge,
            outcome=self._outcome,
            message=" ".join(self._messages),
        )

    def _shard_files(self, failed: bool) -> list[str]:
        """The readable shards of the workers, in worker order; the unreadable ones are named in the summary (a
        worker killed while creating its shard leaves one)."""
        paths = [status.job.failed_shard_file if failed else status.job.shard_file for status in self._statuses]
        paths = [path for path in paths if os.path.exists(path)]
        unreadable = [path for path in paths if _count_demos(path, default=-1) < 0]
        self._unreadable_shards += unreadable
        return [path for path in paths if path not in unreadable]


def _count_demos(path: str, default: int = 0) -> int:
    """Demos in a dataset file; ``default`` if it is missing or unreadable.

    A LeRobot shard (a folder) whose worker died while writing it is recovered first, keeping its complete episodes.
    """
    if os.path.isdir(path):
        return _count_lerobot_episodes(path, default)
    try:
        return len(read_demo_names(path))
    except (ValueError, FileNotFoundError):
        return default


def _count_lerobot_episodes(path: str, default: int) -> int:
    from isaaclab.utils.datasets.lerobot import recover_dataset
    from isaaclab.utils.datasets.lerobot.layout import INFO_PATH, JOURNAL_DIR

    try:
        if os.path.isdir(os.path.join(path, JOURNAL_DIR)):
            recover_dataset(path)
        with open(os.path.join(path, INFO_PATH)) as file:
            return json.load(file)["total_episodes"]
    except (OSError, ValueError, KeyError):
        return default


def _merge_lerobot_shards(shards: list[str], output: str, max_demos: int | None = None) -> MergeResult:
    """Merge LeRobot shard folders in order into a LeRobot dataset folder."""
    from isaaclab.utils.datasets.lerobot import merge_lerobot_datasets

    start = time.perf_counter()
    num_demos = merge_lerobot_datasets(shards, output, max_episodes=max_demos)
    with open(os.path.join(output, "meta", "info.json")) as file:
        total_samples = json.load(file)["total_frames"]
    sizes = [
        sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(shard) for name in names)
        for shard in shards
    ]
    counts, left = {}, num_demos
    for shard in shards:
        counts[shard] = min(left, _count_lerobot_episodes(shard, 0))
        left -= counts[shard]
    return MergeResult(
        output_file=output,
        num_demos=num_demos,
        total_samples=total_samples,
        input_bytes=sum(sizes),
        seconds=time.perf_counter() - start,
        demos_per_input=counts,
    )


def _kill_and_wait(actors: list[Any]) -> None:
    """Kill actors and wait (up to :data:`KILL_WAIT_SECONDS`) until calls to them fail: their processes have ended
    and released their files before the driver reads them."""
    for actor in actors:
        ray.kill(actor)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    for actor in actors:
        while time.monotonic() < deadline:
            try:
                ray.get(actor.progress.remote(), timeout=max(0.1, deadline - time.monotonic()))
            except (RayActorError, GetTimeoutError):
                break
            time.sleep(0.05)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
