# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Writing exported episodes to dataset files, inline or on one background thread."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dataset_file_handler_base import DatasetFileHandlerBase
    from .episode_data import EpisodeData

BACKGROUND_NICENESS = 10
"""The nice value of the background writer thread and the threads it starts (the simulation loop keeps 0)."""


class EpisodeWriteError(RuntimeError):
    """Raised in the caller when the episode writer failed to write one or more episodes."""


@dataclasses.dataclass(eq=False)
class EpisodeWriteJob:
    """One episode to write: an owned snapshot and the file it goes to."""

    file_handler: DatasetFileHandlerBase
    """The handler of the target file."""

    episode: EpisodeData | None
    """The snapshot (nothing else holds or writes its containers or tensors), or None to only update metadata."""

    demo_id: int | None = None
    """The custom demo index, or None for the file's running count."""

    episode_name: str | None = None
    """The name reserved for the episode at export, if the handler reserves names (for messages)."""

    dataset_compression: bool = True
    """Whether to compress the episode's datasets."""

    env_args: list[tuple[DatasetFileHandlerBase, dict]] = dataclasses.field(default_factory=list)
    """Environment arguments to merge into files' metadata before the episode is written."""

    nbytes: int = 0
    """The memory the snapshot holds (its tensors and their bookkeeping), for the queue's byte bound."""

    on_written: Callable[[], None] | None = None
    """Called on the writing thread once the episode is written and flushed."""

    @property
    def description(self) -> str:
        """A short name of the job for error messages."""
        path = getattr(self.file_handler, "file_path", None)
        name = self.episode_name or (f"demo_{self.demo_id}" if self.demo_id is not None else "the next demo")
        env_id = self.episode.env_id if self.episode is not None else None
        return f"{name} (env {env_id})" + (f" of '{path}'" if path else "")

    def run(self) -> None:
        """Merge the metadata, write the episode (its per-step lists stacked, as upstream hands episodes over) and
        flush the file."""
        handed_over = False
        try:
            for file_handler, env_args in self.env_args:
                file_handler.add_env_args(env_args)
            if self.episode is not None:
                self.episode.pre_export()
                handed_over = True
                self.file_handler.write_episode(self.episode, self.demo_id, self.dataset_compression)
        except BaseException:
            # a name reserved for the episode is used up by its write, written or not; else it is given back here
            if not handed_over and self.episode_name is not None:
                self.file_handler.release_episode_names([self.demo_id])
            raise
        self.file_handler.flush()
        if self.on_written is not None:
            self.on_written()


@dataclasses.dataclass
class WriterStatistics:
    """Counters of an :class:`EpisodeWriter` (seconds are wall-clock): submitted = written + failed + queued."""

    episodes_submitted: int = 0
    """Episodes handed to the writer."""

    episodes_queued: int = 0
    """Episodes waiting or being written now."""

    bytes_queued: int = 0
    """Bytes held by the episodes waiting or being written now."""

    peak_queue_depth: int = 0
    """The most episodes that waited at once."""

    peak_queue_bytes: int = 0
    """The most bytes that waited at once."""

    episodes_written: int = 0
    """Episodes written and flushed to their file."""

    bytes_written: int = 0
    """Bytes of the episodes written."""

    episodes_failed: int = 0
    """Episodes whose write raised: they are not in the file."""

    write_seconds: float = 0.0
    """Time spent writing (converting, compressing, HDF5 calls, flushing)."""

    submit_seconds: float = 0.0
    """Time the caller spent in :meth:`EpisodeWriter.submit` (in synchronous mode, the writing itself)."""

    blocked_seconds: float = 0.0
    """Time the caller spent waiting for room in the queue."""

    @property
    def write_throughput_mb_s(self) -> float:
        """Written megabytes per second of writing."""
        return self.bytes_written / 1e6 / self.write_seconds if self.write_seconds > 0 else 0.0


class EpisodeWriter:
    """Writes :class:`EpisodeWriteJob` s in submission order, inline or on one background thread.

    Both modes write through the same method. In asynchronous mode :meth:`submit` queues the job (the queue is bounded
    by episodes and bytes: a full queue blocks, nothing is dropped) for one non-daemon thread, which also writes what
    is queued when the program ends without :meth:`close`. A failed write never stops the writer; failures are
    reported once, by :meth:`raise_if_failed`, :meth:`flush` or :meth:`close`, as an :class:`EpisodeWriteError`
    chained to the first one, with the number of episodes not written.
    """

    _POLL_SECONDS = 0.1
    """How often an idle writer thread checks whether the main thread has ended."""

    def __init__(
        self,
        asynchronous: bool = True,
        max_queue_episodes: int = 16,
        max_queue_bytes: int = 1024**3,
        name: str = "isaaclab-episode-writer",
    ) -> None:
        """Create a writer (and start its thread when asynchronous).

        Args:
            asynchronous: Write on a background thread.
            max_queue_episodes: The most episodes waiting at once (at least 1).
            max_queue_bytes: The most bytes waiting at once; a larger episode is still taken by an empty queue.
            name: The thread's name.

        Raises:
            ValueError: If a bound is not positive.
        """
        if max_queue_episodes < 1:
            raise ValueError(f"The writer's queue must hold at least one episode, got {max_queue_episodes}.")
        if max_queue_bytes < 1:
            raise ValueError(f"The writer's queue byte bound must be positive, got {max_queue_bytes}.")
        self._asynchronous = asynchronous
        self._max_queue_episodes = max_queue_episodes
        self._max_queue_bytes = max_queue_bytes
        self._stats = WriterStatistics()
        self._queue: collections.deque[EpisodeWriteJob] = collections.deque()
        self._condition = threading.Condition()
        self._closing = False
        # the first failure not reported to the caller yet, its job, and how many episodes failed since
        self._error: BaseException | None = None
        self._failed_job = ""
        self._unreported_failures = 0
        self._thread: threading.Thread | None = None
        if asynchronous:
            self._thread = threading.Thread(target=self._run, name=name, daemon=False)
            self._thread.start()

    @property
    def statistics(self) -> WriterStatistics:
        """A copy of the current counters."""
        with self._condition:
            return dataclasses.replace(self._stats)

    def submit(self, job: EpisodeWriteJob) -> None:
        """Write the job, or queue it for the writer thread (blocking while the queue is full).

        A failed write is not raised here: see :meth:`raise_if_failed`.

        Raises:
            RuntimeError: If the writer is closed.
        """
        start = time.perf_counter()
        with self._condition:
            if self._closing:
                raise RuntimeError("The episode writer is closed: no more episodes can be exported.")
            if self._asynchronous and self._is_full_for(job):
                while self._is_full_for(job):
                    self._condition.wait()
                self._stats.blocked_seconds += time.perf_counter() - start
            self._enqueue(job)
        try:
            if not self._asynchronous:
                self._write(job)
        finally:
            with self._condition:
                self._stats.submit_seconds += time.perf_counter() - start

    def flush(self) -> None:
        """Wait until every submitted episode is written.

        Raises:
            EpisodeWriteError: If writes failed since failures were last reported.
        """
        with self._condition:
            while self._queue and self._thread is not None and self._thread.is_alive():
                self._condition.wait()
        self.raise_if_failed()

    def close(self) -> None:
        """Write everything queued, stop the thread (no timeout) and report failed writes. Idempotent.

        Raises:
            EpisodeWriteError: If writes failed since failures were last reported.
        """
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self.raise_if_failed()

    def raise_if_failed(self) -> None:
        """Report the writes that failed since the last report (once).

        Raises:
            EpisodeWriteError: Chained to the first of them, with how many episodes were not written.
        """
        with self._condition:
            error, failed_job, count = self._error, self._failed_job, self._unreported_failures
            self._error, self._unreported_failures = None, 0
        if error is not None:
            raise EpisodeWriteError(
                f"The dataset writer failed: {count} episode(s) not written (first failure: {failed_job}:"
                f" {type(error).__name__}: {error})."
            ) from error

    """
    Helpers.
    """

    def _enqueue(self, job: EpisodeWriteJob) -> None:
        """Count a submitted job and queue it (call with the condition held)."""
        self._queue.append(job)
        stats = self._stats
        stats.episodes_submitted += job.episode is not None
        stats.episodes_queued += job.episode is not None
        stats.bytes_queued += job.nbytes
        if self._asynchronous:
            # a synchronous job is written at once: nothing waits
            stats.peak_queue_depth = max(stats.peak_queue_depth, stats.episodes_queued)
            stats.peak_queue_bytes = max(stats.peak_queue_bytes, stats.bytes_queued)
        self._condition.notify_all()

    def _write(self, job: EpisodeWriteJob) -> None:
        """Run a queued job, then count it as written or failed.

        This is the one path of both modes: inline in synchronous mode, on the writer thread otherwise.
        """
        start = time.perf_counter()
        error = None
        try:
            job.run()
        except BaseException as exc:  # noqa: BLE001 - every failure is counted and reported to the caller
            error = exc
        elapsed = time.perf_counter() - start
        with self._condition:
            self._queue.remove(job)
            stats = self._stats
            stats.write_seconds += elapsed
            stats.episodes_queued -= job.episode is not None
            stats.bytes_queued -= job.nbytes
            if error is None:
                stats.episodes_written += job.episode is not None
                stats.bytes_written += job.nbytes
            else:
                stats.episodes_failed += job.episode is not None
                self._unreported_failures += job.episode is not None
                if self._error is None:
                    self._error, self._failed_job = error, job.description
            self._condition.notify_all()

    def _is_full_for(self, job: EpisodeWriteJob) -> bool:
        if not self._queue:
            return False
        return (
            len(self._queue) >= self._max_queue_episodes
            or self._stats.bytes_queued + job.nbytes > self._max_queue_bytes
        )

    def _run(self) -> None:
        """The writer thread: write queued jobs in order until closed (or the main thread ended) and drained."""
        lower_thread_priority()
        while True:
            with self._condition:
                while not self._queue and not self._closing:
                    if not threading.main_thread().is_alive():
                        # the program is ending without close(), and nothing is left to write
                        self._closing = True
                        break
                    self._condition.wait(self._POLL_SECONDS)
                if not self._queue:
                    self._condition.notify_all()
                    return
                job = self._queue[0]
            self._write(job)


def lower_thread_priority() -> None:
    """Lower the scheduling priority of the calling thread (Linux: its nice value, which threads it starts inherit),
    so that the simulation loop gets a core first when the writer's threads compete with it; elsewhere, or if not
    permitted, do nothing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)
