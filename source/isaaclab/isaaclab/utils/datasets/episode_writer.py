"""Writing episode snapshots to dataset files, inline or on one background thread."""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from typing import Any

from .dataset_file_handler_base import DatasetFileHandlerBase
from .episode_data import EpisodeData


class EpisodeWriteError(RuntimeError):
    """Raised in the caller when the background writer failed to write one or more episodes."""


@dataclasses.dataclass
class EpisodeWriteJob:
    """One episode to write: an owned snapshot and where it goes."""

    file_handler: DatasetFileHandlerBase
    """The handler of the target file."""
    episode: EpisodeData
    """The snapshot; nothing else holds or writes its containers or tensors."""
    episode_name: str | None
    """The name reserved at export, or None when the handler names episodes as it writes them."""
    demo_id: int | None = None
    """The custom demo index, if any (used when the handler names episodes itself)."""
    dataset_compression: bool = True
    """Compress the episode's datasets."""
    env_args: dict[str, Any] | None = None
    """Environment arguments to merge into the file's metadata before the episode is written."""

    @property
    def nbytes(self) -> int:
        """Bytes of tensor data in the snapshot."""
        return self.episode.nbytes

    @property
    def description(self) -> str:
        """A short name of the job for messages."""
        path = getattr(self.file_handler, "file_path", None)
        name = self.episode_name or (f"demo_{self.demo_id}" if self.demo_id is not None else "?")
        return f"episode '{name}' of env {self.episode.env_id}" + (f" in '{path}'" if path else "")

    def run(self) -> None:
        """Write the episode (stack, convert, compress, publish) and flush the file."""
        if self.env_args:
            self.file_handler.add_env_args(self.env_args)
        if self.episode_name is None:
            self.file_handler.write_episode(self.episode, self.demo_id, self.dataset_compression)
        else:
            self.file_handler.write_reserved_episode(self.episode_name, self.episode, self.dataset_compression)
        self.file_handler.flush()


@dataclasses.dataclass
class WriterStatistics:
    """Counters of an :class:`EpisodeWriter`. Seconds are wall-clock."""

    episodes_submitted: int = 0
    """Episodes handed to the writer."""
    episodes_queued: int = 0
    """Episodes waiting or being written now."""
    bytes_queued: int = 0
    """Tensor bytes of the episodes waiting or being written now."""
    peak_queue_depth: int = 0
    """The most episodes that were waiting at once."""
    peak_queue_bytes: int = 0
    """The most tensor bytes that were waiting at once."""
    episodes_written: int = 0
    """Episodes written and flushed to their file."""
    bytes_written: int = 0
    """Tensor bytes of the episodes written."""
    episodes_failed: int = 0
    """Episodes whose write raised."""
    write_seconds: float = 0.0
    """Time spent writing (stacking, converting, compressing, HDF5 calls, flushing)."""
    submit_seconds: float = 0.0
    """Time the caller spent inside :meth:`EpisodeWriter.submit` (in synchronous mode: the writing itself)."""
    export_seconds: float = 0.0
    """Time the caller spent in whole export calls (``RecorderManager.export_episodes``: choosing files, naming,
    snapshots and submitting), as reported with :meth:`EpisodeWriter.add_export_seconds`."""
    blocked_seconds: float = 0.0
    """Time the caller spent waiting for room in the queue."""

    @property
    def write_throughput_mb_s(self) -> float:
        """Written tensor megabytes per second of writing."""
        return self.bytes_written / 1e6 / self.write_seconds if self.write_seconds > 0 else 0.0


class EpisodeWriter:
    """Writes :class:`EpisodeWriteJob` s in submission order, inline or on one background thread.

    In asynchronous mode, :meth:`submit` puts the job on a queue bounded by episode count and by bytes, and returns;
    when the queue is full it blocks until there is room (back-pressure: nothing is ever dropped). One non-daemon
    thread writes the jobs. If a write fails, the first error is re-raised, chained, in the caller at the next
    :meth:`submit`, :meth:`flush` or :meth:`close`, with the number of episodes not written; the writer accepts no
    more jobs after that but still writes what was queued. If the program ends without :meth:`close`, the thread
    writes everything queued before the interpreter exits.

    In synchronous mode, :meth:`submit` runs the job at once and write errors propagate directly.
    """

    _POLL_SECONDS = 0.1
    """How often an idle writer thread checks whether the main thread has ended."""

    def __init__(
        self,
        asynchronous: bool = True,
        max_queue_episodes: int = 16,
        max_queue_bytes: int = 2 * 1024**3,
        name: str = "isaaclab-episode-writer",
    ) -> None:
        """Create a writer (and start its thread when asynchronous).

        Args:
            asynchronous: Write on a background thread.
            max_queue_episodes: The most episodes waiting at once (at least 1).
            max_queue_bytes: The most tensor bytes waiting at once; a single larger episode is still accepted when the
                queue is empty.
            name: The thread's name.

        Raises:
            ValueError: If a bound is not positive.
        """
        if max_queue_episodes < 1:
            raise ValueError(f"max_queue_episodes must be at least 1, got {max_queue_episodes}.")
        if max_queue_bytes < 1:
            raise ValueError(f"max_queue_bytes must be positive, got {max_queue_bytes}.")
        self._asynchronous = asynchronous
        self._max_queue_episodes = max_queue_episodes
        self._max_queue_bytes = max_queue_bytes
        self._stats = WriterStatistics()
        self._queue: collections.deque[EpisodeWriteJob] = collections.deque()
        self._condition = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._failed_job: str | None = None
        self._thread: threading.Thread | None = None
        if asynchronous:
            self._thread = threading.Thread(target=self._run, name=name, daemon=False)
            self._thread.start()

    @property
    def asynchronous(self) -> bool:
        """Whether jobs are written on a background thread."""
        return self._asynchronous

    @property
    def statistics(self) -> WriterStatistics:
        """A copy of the current counters."""
        with self._condition:
            return dataclasses.replace(self._stats)

    def submit(self, job: EpisodeWriteJob) -> None:
        """Write the job, or queue it for the writer thread (blocking while the queue is full).

        Raises:
            EpisodeWriteError: If an earlier write failed (the job is not taken).
            RuntimeError: If the writer is closed.
        """
        start = time.perf_counter()
        if not self._asynchronous:
            self._raise_if_closed()
            self._stats.episodes_submitted += 1
            try:
                self._count_written(job, _timed_run(job))
            except BaseException:
                self._stats.episodes_failed += 1
                raise
            finally:
                self._stats.submit_seconds += time.perf_counter() - start
            return
        with self._condition:
            self.raise_if_failed()
            self._raise_if_closed()
            if self._is_full_for(job):
                while self._is_full_for(job):
                    self._condition.wait()
                    self.raise_if_failed()
                self._stats.blocked_seconds += time.perf_counter() - start
            self._queue.append(job)
            stats = self._stats
            stats.episodes_submitted += 1
            stats.episodes_queued += 1
            stats.bytes_queued += job.nbytes
            stats.peak_queue_depth = max(stats.peak_queue_depth, stats.episodes_queued)
            stats.peak_queue_bytes = max(stats.peak_queue_bytes, stats.bytes_queued)
            self._condition.notify_all()
            stats.submit_seconds += time.perf_counter() - start

    def add_export_seconds(self, seconds: float) -> None:
        """Count time the caller spent in an export call (of which :meth:`submit` is a part)."""
        with self._condition:
            self._stats.export_seconds += seconds

    def flush(self) -> None:
        """Wait until every submitted episode is written.

        Raises:
            EpisodeWriteError: If a write failed.
        """
        with self._condition:
            while self._queue and self._thread_alive():
                self._condition.wait()
            self.raise_if_failed()

    def close(self) -> None:
        """Write everything queued, stop the thread (no timeout) and raise any write error. Idempotent."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._condition:
            self.raise_if_failed()

    def raise_if_failed(self) -> None:
        """Raise the first write error, if a write failed.

        Raises:
            EpisodeWriteError: Chained to the first error, with the number of episodes not written.
        """
        with self._condition:
            if self._error is None:
                return
            not_written = self._stats.episodes_failed
        raise EpisodeWriteError(
            f"The dataset writer failed: {not_written} episode(s) not written (first failure: {self._failed_job}:"
            f" {type(self._error).__name__}: {self._error})."
        ) from self._error

    """
    Helpers.
    """

    def _is_full_for(self, job: EpisodeWriteJob) -> bool:
        if not self._queue:
            return False
        return (
            len(self._queue) >= self._max_queue_episodes
            or self._stats.bytes_queued + job.nbytes > self._max_queue_bytes
        )

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _raise_if_closed(self) -> None:
        if self._closing:
            raise RuntimeError("The episode writer is closed.")

    def _count_written(self, job: EpisodeWriteJob, seconds: float) -> None:
        self._stats.write_seconds += seconds
        self._stats.episodes_written += 1
        self._stats.bytes_written += job.nbytes

    def _run(self) -> None:
        """The writer thread: write queued jobs in order until closed (or the main thread ended) and drained."""
        while True:
            with self._condition:
                while not self._queue and not self._closing:
                    if not threading.main_thread().is_alive():
                        # the program is ending without close(): the queue is empty, nothing is left to write
                        self._closing = True
                        break
                    self._condition.wait(self._POLL_SECONDS)
                if not self._queue:
                    self._condition.notify_all()
                    return
                job = self._queue[0]
            start = time.perf_counter()
            error = None
            try:
                job.run()
            except BaseException as exc:  # noqa: BLE001 - every failure is recorded and re-raised in the caller
                error = exc
            elapsed = time.perf_counter() - start
            with self._condition:
                self._queue.popleft()
                self._stats.episodes_queued -= 1
                self._stats.bytes_queued -= job.nbytes
                if error is None:
                    self._count_written(job, elapsed)
                else:
                    self._stats.write_seconds += elapsed
                    self._stats.episodes_failed += 1
                    if self._error is None:
                        self._error = error
                        self._failed_job = job.description
                self._condition.notify_all()


def _timed_run(job: EpisodeWriteJob) -> float:
    start = time.perf_counter()
    job.run()
    return time.perf_counter() - start
