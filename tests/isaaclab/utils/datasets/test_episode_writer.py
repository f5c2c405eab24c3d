"""Unit tests of :class:`EpisodeWriter` (inline and background writing, order, bounds, statistics, errors, close)."""

from __future__ import annotations

import contextlib
import re
import threading
import time

import h5py
import numpy as np
import pytest
import torch

from isaaclab.utils.datasets import (
    DatasetFileHandlerBase,
    EpisodeData,
    EpisodeWriteError,
    EpisodeWriteJob,
    EpisodeWriter,
    HDF5DatasetFileHandler,
    WriterStatistics,
)

WRITER_THREAD = "isaaclab-episode-writer"


class MemoryHandler(DatasetFileHandlerBase):
    """An in-memory handler that logs every call (with the calling thread), and can be slowed, gated or made to fail."""

    def __init__(self, delay_s: float = 0.0, fail_at=(), gate: threading.Event | None = None) -> None:
        self.delay_s = delay_s
        self.fail_at = set(fail_at)
        self.gate = gate
        self.calls: list[tuple] = []
        self.written: list[str] = []
        self.env_args: dict = {}
        self.flushes = 0
        self._writes = 0
        self._count = 0
        self.in_write = threading.Event()

    def create(self, file_path, env_name=None):
        pass

    def open(self, file_path, mode="r"):
        pass

    def get_env_name(self):
        return self.env_args.get("env_name")

    def get_episode_names(self):
        return list(self.written)

    def get_num_episodes(self):
        return len(self.written)

    def add_env_args(self, env_args):
        self.calls.append(("add_env_args", dict(env_args), threading.current_thread().name))
        self.env_args.update(env_args)

    def reserve_episode_name(self, demo_id=None):
        name = f"demo_{demo_id if demo_id is not None else self._count}"
        if demo_id is None:
            self._count += 1
        return name

    def _write(self, name, episode, compression):
        index = self._writes
        self._writes += 1
        self.in_write.set()
        if self.gate is not None:
            assert self.gate.wait(20), "the test never opened the gate"
        if self.delay_s:
            time.sleep(self.delay_s)
        if index in self.fail_at:
            raise OSError(f"injected failure of write {index}")
        episode.pre_export()  # stacking happens where the write happens
        self.calls.append(("write", name, compression, threading.current_thread().name))
        self.written.append(name)

    def write_reserved_episode(self, episode_name, episode, dataset_compression=True):
        self._write(episode_name, episode, dataset_compression)

    def write_episode(self, episode, demo_id=None, dataset_compression=True):
        self._write(f"unreserved_{demo_id}", episode, dataset_compression)

    def load_episode(self, episode_name, device):
        return None

    def flush(self):
        self.flushes += 1
        self.calls.append(("flush", threading.current_thread().name))

    def close(self):
        pass


def make_episode(value: float = 0.0, steps: int = 2, width: int = 4) -> EpisodeData:
    episode = EpisodeData()
    for step in range(steps):
        episode.add("actions", torch.full((width,), float(value + step)))
    return episode


def make_job(handler, index: int, nbytes_width: int = 4, **kwargs) -> EpisodeWriteJob:
    kwargs.setdefault("episode_name", f"demo_{index}")
    return EpisodeWriteJob(file_handler=handler, episode=make_episode(index, width=nbytes_width), **kwargs)


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == WRITER_THREAD]


@pytest.fixture
def writers():
    """Closes every writer a test made (a failed test must not leave a thread behind)."""
    made = []

    def make(*args, **kwargs):
        writer = EpisodeWriter(*args, **kwargs)
        made.append(writer)
        return writer

    yield make
    for writer in made:
        with contextlib.suppress(EpisodeWriteError):
            writer.close()


"""
Construction.
"""


@pytest.mark.parametrize(
    "episodes, max_bytes", [(0, 1024), (-1, 1024), (1, 0), (1, -5)], ids=["zero", "negative", "zero_b", "neg_b"]
)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_bad_bounds_raise_value_error(asynchronous, episodes, max_bytes):
    before = len(writer_threads())
    with pytest.raises(ValueError, match="max_queue_episodes|max_queue_bytes"):
        EpisodeWriter(asynchronous=asynchronous, max_queue_episodes=episodes, max_queue_bytes=max_bytes)
    assert len(writer_threads()) == before  # no thread was started for a rejected writer


def test_async_writer_has_one_non_daemon_thread(writers):
    before = len(writer_threads())
    writer = writers(asynchronous=True)
    assert writer.asynchronous is True
    threads = writer_threads()
    assert len(threads) == before + 1
    assert not any(thread.daemon for thread in threads)
    writer.close()
    assert len(writer_threads()) == before


"""
Synchronous mode.
"""


def test_sync_writes_inline_in_order_on_the_caller_thread(writers):
    handler = MemoryHandler(delay_s=0.002)
    writer = writers(asynchronous=False)
    assert writer.asynchronous is False
    jobs = [make_job(handler, i) for i in range(5)]
    for index, job in enumerate(jobs):
        writer.submit(job)
        assert handler.written == [f"demo_{i}" for i in range(index + 1)]  # written before submit returned
    caller = threading.current_thread().name
    assert {call[-1] for call in handler.calls} == {caller}
    assert handler.flushes == 5  # flushed after each episode
    stats = writer.statistics
    assert stats.episodes_submitted == stats.episodes_written == 5
    assert stats.episodes_queued == 0 and stats.bytes_queued == 0 and stats.peak_queue_depth == 0
    assert stats.bytes_written == sum(job.nbytes for job in jobs) == 5 * 2 * 4 * 4
    assert stats.write_seconds >= 5 * 0.002 and stats.submit_seconds >= stats.write_seconds
    assert stats.blocked_seconds == 0.0
    writer.flush()
    writer.close()
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(make_job(handler, 9))
    assert writer.statistics.episodes_submitted == 5


def test_sync_write_error_propagates_directly(writers):
    handler = MemoryHandler(fail_at={1})
    writer = writers(asynchronous=False)
    writer.submit(make_job(handler, 0))
    with pytest.raises(OSError, match="injected failure of write 1"):
        writer.submit(make_job(handler, 1))
    assert writer.statistics.episodes_failed == 1 and writer.statistics.episodes_written == 1
    writer.submit(make_job(handler, 2))  # inline mode keeps writing; the caller saw the error
    assert handler.written == ["demo_0", "demo_2"]


"""
Asynchronous mode.
"""


def test_async_writes_in_submission_order_on_the_writer_thread(writers):
    handler = MemoryHandler()
    writer = writers(asynchronous=True, max_queue_episodes=4)
    jobs = [make_job(handler, i) for i in range(200)]
    for job in jobs:
        writer.submit(job)
    writer.flush()
    assert handler.written == [f"demo_{i}" for i in range(200)]
    assert {call[-1] for call in handler.calls} == {WRITER_THREAD}
    stats = writer.statistics
    assert stats.episodes_submitted == stats.episodes_written == 200
    assert stats.episodes_queued == 0 and stats.bytes_queued == 0
    assert stats.bytes_written == sum(job.nbytes for job in jobs)
    assert 1 <= stats.peak_queue_depth <= 4
    assert stats.episodes_failed == 0


def test_async_submit_returns_before_the_write_and_flush_waits(writers):
    handler = MemoryHandler(delay_s=0.2)
    writer = writers(asynchronous=True)
    start = time.perf_counter()
    writer.submit(make_job(handler, 0))
    assert time.perf_counter() - start < 0.1
    assert handler.written == [] and writer.statistics.episodes_written == 0
    writer.flush()
    assert handler.written == ["demo_0"] and writer.statistics.episodes_written == 1
    assert writer.statistics.write_seconds >= 0.2


def test_statistics_while_jobs_wait_and_after(writers):
    gate = threading.Event()
    handler = MemoryHandler(gate=gate)
    writer = writers(asynchronous=True, max_queue_episodes=5)
    jobs = [make_job(handler, i, nbytes_width=4 * (i + 1)) for i in range(3)]
    for job in jobs:
        writer.submit(job)
    assert handler.in_write.wait(5)
    stats = writer.statistics
    assert stats.episodes_submitted == 3 and stats.episodes_queued == 3
    assert stats.bytes_queued == sum(job.nbytes for job in jobs) == stats.peak_queue_bytes
    assert stats.peak_queue_depth == 3 and stats.episodes_written == 0
    # statistics is a copy: changing it changes nothing in the writer
    stats.episodes_written = 1000
    assert writer.statistics.episodes_written == 0
    gate.set()
    writer.flush()
    stats = writer.statistics
    assert stats.episodes_queued == 0 and stats.bytes_queued == 0
    assert stats.peak_queue_depth == 3 and stats.peak_queue_bytes == sum(job.nbytes for job in jobs)
    assert stats.episodes_written == 3 and stats.bytes_written == sum(job.nbytes for job in jobs)
    assert stats.write_seconds > 0 and stats.write_throughput_mb_s > 0
    assert WriterStatistics().write_throughput_mb_s == 0.0


def _submit_in_thread(writer, job):
    outcome = {}

    def run():
        start = time.perf_counter()
        try:
            writer.submit(job)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error
        outcome["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.timeout(30)
def test_full_queue_blocks_submit_until_there_is_room(writers):
    gate = threading.Event()
    handler = MemoryHandler(gate=gate)
    writer = writers(asynchronous=True, max_queue_episodes=2)
    writer.submit(make_job(handler, 0))
    writer.submit(make_job(handler, 1))
    thread, outcome = _submit_in_thread(writer, make_job(handler, 2))
    thread.join(0.2)
    assert thread.is_alive(), "submit returned although the queue was full"
    assert writer.statistics.episodes_queued == 2 and writer.statistics.episodes_submitted == 2
    gate.set()
    thread.join(10)
    assert not thread.is_alive() and "error" not in outcome
    assert outcome["seconds"] >= 0.15
    writer.flush()
    stats = writer.statistics
    assert handler.written == ["demo_0", "demo_1", "demo_2"]
    assert stats.peak_queue_depth == 2 and stats.blocked_seconds >= 0.15


@pytest.mark.timeout(30)
def test_byte_bound_blocks_and_an_oversized_episode_is_accepted_alone(writers):
    gate = threading.Event()
    handler = MemoryHandler(gate=gate)
    small = make_job(handler, 0)
    writer = writers(asynchronous=True, max_queue_episodes=100, max_queue_bytes=int(1.5 * small.nbytes))
    writer.submit(small)
    thread, outcome = _submit_in_thread(writer, make_job(handler, 1))
    thread.join(0.2)
    assert thread.is_alive(), "the byte bound did not hold the second episode back"
    gate.set()
    thread.join(10)
    assert not thread.is_alive() and "error" not in outcome
    big = make_job(handler, 2, nbytes_width=1000)
    assert big.nbytes > writer.statistics.peak_queue_bytes * 10
    writer.submit(big)  # larger than the bound: accepted once the queue is empty
    writer.flush()
    stats = writer.statistics
    assert handler.written == ["demo_0", "demo_1", "demo_2"]
    assert stats.peak_queue_depth == 1 and stats.peak_queue_bytes == big.nbytes
    assert stats.blocked_seconds >= 0.15


def test_close_drains_joins_and_is_idempotent(writers):
    handler = MemoryHandler(delay_s=0.01)
    writer = writers(asynchronous=True, max_queue_episodes=20)
    for index in range(10):
        writer.submit(make_job(handler, index))
    before = len(writer_threads())
    writer.close()
    assert handler.written == [f"demo_{i}" for i in range(10)]
    assert len(writer_threads()) == before - 1
    writer.close()
    writer.flush()  # a closed writer has nothing left to wait for
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(make_job(handler, 10))
    assert writer.statistics.episodes_submitted == 10 and writer.statistics.episodes_written == 10


def test_env_args_are_merged_before_the_episode_and_unreserved_jobs_use_write_episode(writers):
    handler = MemoryHandler()
    writer = writers(asynchronous=True)
    writer.submit(make_job(handler, 0, env_args={"sim_args": {"dt": 0.01}}))
    writer.submit(make_job(handler, 1, episode_name=None, demo_id=7, dataset_compression=False))
    writer.flush()
    kinds = [call[0] for call in handler.calls]
    assert kinds == ["add_env_args", "write", "flush", "write", "flush"]
    assert handler.env_args == {"sim_args": {"dt": 0.01}}
    assert handler.calls[1][1:3] == ("demo_0", True)
    assert handler.calls[3][1:3] == ("unreserved_7", False)


"""
Errors.
"""


def _not_written(error: BaseException) -> int:
    match = re.search(r"(\d+) episode\(s\) not written", str(error))
    assert match, f"no count of unwritten episodes in: {error}"
    return int(match.group(1))


@pytest.mark.timeout(30)
def test_write_error_surfaces_chained_at_flush_submit_and_close(writers):
    gate = threading.Event()
    handler = MemoryHandler(fail_at={1}, gate=gate)
    writer = writers(asynchronous=True)
    for index in range(3):
        writer.submit(make_job(handler, index))
    gate.set()  # the writer starts only once all three are queued
    with pytest.raises(EpisodeWriteError) as flushed:
        writer.flush()
    assert isinstance(flushed.value.__cause__, OSError)
    assert "injected failure of write 1" in str(flushed.value)
    assert "demo_1" in str(flushed.value)
    assert _not_written(flushed.value) == 1
    # the writer takes no more jobs after a failure
    with pytest.raises(EpisodeWriteError) as submitted:
        writer.submit(make_job(handler, 3))
    assert submitted.value.__cause__ is flushed.value.__cause__
    assert writer.statistics.episodes_submitted == 3
    with pytest.raises(EpisodeWriteError) as closed:
        writer.close()
    assert closed.value.__cause__ is flushed.value.__cause__
    stats = writer.statistics
    assert stats.episodes_failed == 1 and stats.episodes_written == 2 and stats.episodes_queued == 0
    assert "demo_1" not in handler.written
    assert len(handler.written) + _not_written(closed.value) == 3


@pytest.mark.timeout(30)
def test_failure_wakes_a_blocked_submit(writers):
    handler = MemoryHandler(delay_s=0.1, fail_at={0, 1, 2})
    writer = writers(asynchronous=True, max_queue_episodes=1)
    writer.submit(make_job(handler, 0))
    start = time.perf_counter()
    with pytest.raises(EpisodeWriteError):
        writer.submit(make_job(handler, 1))  # blocks on the full queue; the failure must end the wait
    assert time.perf_counter() - start < 5
    with pytest.raises(EpisodeWriteError):
        writer.close()


"""
With the real HDF5 handler.
"""


def test_async_writer_with_the_hdf5_handler(tmp_path, writers):
    handler = HDF5DatasetFileHandler()
    handler.create(str(tmp_path / "data"), env_name="Writer-v0")
    writer = writers(asynchronous=True, max_queue_episodes=3)
    for index in range(12):
        job = EpisodeWriteJob(
            file_handler=handler,
            episode=make_episode(index, steps=3),
            episode_name=handler.reserve_episode_name(),
            env_args={"round": index},
        )
        writer.submit(job)
    writer.close()
    handler.close()
    with h5py.File(tmp_path / "data.hdf5", "r") as file:
        data = file["data"]
        assert sorted(data.keys(), key=lambda n: int(n.split("_")[1])) == [f"demo_{i}" for i in range(12)]
        for index in range(12):
            np.testing.assert_array_equal(data[f"demo_{index}/actions"][:, 0], [index, index + 1, index + 2])
            assert data[f"demo_{index}"].attrs["num_samples"] == 3
        assert data.attrs["total"] == 36
        assert '"round": 11' in data.attrs["env_args"] and '"env_name": "Writer-v0"' in data.attrs["env_args"]
