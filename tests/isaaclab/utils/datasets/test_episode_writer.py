# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Unit tests of :class:`EpisodeWriter` (inline and background writing, order, bounds, statistics, errors, close)."""

from __future__ import annotations

import contextlib
import dataclasses
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

pytestmark = pytest.mark.unit

WRITER_THREAD = "isaaclab-episode-writer"


class MemoryHandler(DatasetFileHandlerBase):
    """An in-memory handler that logs every call (with the calling thread), and can be slowed, gated or made to fail.

    Like the HDF5 handler, names of the running count are given at write time, so a failed write leaves no gap.
    Each written episode is logged by name and by its tag (the env id :func:`make_job` gives it: the job's index).
    """

    def __init__(self, delay_s: float = 0.0, fail_at=(), gate: threading.Event | None = None) -> None:
        self.delay_s = delay_s
        self.fail_at = set(fail_at)
        self.gate = gate
        self.calls: list[tuple] = []
        self.written: list[str] = []
        self.tags: list[int | None] = []
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

    def write_episode(self, episode, demo_id=None, dataset_compression=True):
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
        name = f"demo_{self._count if demo_id is None else demo_id}"
        if demo_id is None:
            self._count += 1
        self.calls.append(("write", name, dataset_compression, threading.current_thread().name))
        self.written.append(name)
        self.tags.append(episode.env_id)

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
    """A job of one episode tagged ``index`` (its env id), written under the handler's next running name; it counts
    the bytes of its tensors."""
    episode = make_episode(index, width=nbytes_width)
    episode.env_id = index
    nbytes = sum(step.nbytes for step in episode.data["actions"])
    return EpisodeWriteJob(file_handler=handler, episode=episode, nbytes=nbytes, **kwargs)


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
    "episodes, max_bytes, message",
    [
        (0, 1024, "The writer's queue must hold at least one episode, got 0."),
        (-1, 1024, "The writer's queue must hold at least one episode, got -1."),
        (1, 0, "The writer's queue byte bound must be positive, got 0."),
        (1, -5, "The writer's queue byte bound must be positive, got -5."),
    ],
    ids=["zero", "negative", "zero_b", "neg_b"],
)
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_bad_bounds_raise_value_error(asynchronous, episodes, max_bytes, message):
    before = len(writer_threads())
    with pytest.raises(ValueError, match=re.escape(message)):
        EpisodeWriter(asynchronous=asynchronous, max_queue_episodes=episodes, max_queue_bytes=max_bytes)
    assert len(writer_threads()) == before  # no thread was started for a rejected writer


def test_async_writer_has_one_non_daemon_thread(writers):
    before = len(writer_threads())
    writer = writers(asynchronous=True)
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
    jobs = [make_job(handler, i) for i in range(5)]
    for index, job in enumerate(jobs):
        writer.submit(job)
        assert handler.written == [f"demo_{i}" for i in range(index + 1)]  # written before submit returned
    caller = threading.current_thread().name
    assert {call[-1] for call in handler.calls} == {caller}
    assert handler.flushes == 5  # flushed after each episode
    assert handler.tags == list(range(5))
    stats = writer.statistics
    assert stats.episodes_submitted == stats.episodes_written == 5
    assert stats.episodes_queued == 0 and stats.bytes_queued == 0
    assert stats.bytes_written == sum(job.nbytes for job in jobs) == 5 * 2 * 4 * 4
    assert stats.write_seconds >= 5 * 0.002 and stats.submit_seconds >= stats.write_seconds
    assert stats.blocked_seconds == 0.0
    writer.flush()
    writer.close()
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(make_job(handler, 9))
    assert writer.statistics.episodes_submitted == 5


def test_sync_mode_never_queues(writers):
    """Nothing ever waits in synchronous mode: the queue statistics stay at zero (as before the one-path rewrite)."""
    handler = MemoryHandler()
    writer = writers(asynchronous=False)
    for index in range(3):
        writer.submit(make_job(handler, index))
    stats = writer.statistics
    assert stats.episodes_written == 3
    assert stats.peak_queue_depth == 0 and stats.peak_queue_bytes == 0
    assert stats.blocked_seconds == 0.0


def test_sync_write_failure_is_reported_once_and_never_stops_the_writer(writers):
    handler = MemoryHandler(fail_at={1})
    writer = writers(asynchronous=False)
    writer.submit(make_job(handler, 0))
    writer.submit(make_job(handler, 1))  # fails inline; reported by raise_if_failed, as in asynchronous mode
    writer.submit(make_job(handler, 2))
    with pytest.raises(EpisodeWriteError) as info:
        writer.raise_if_failed()
    # chained to the write's own error, naming the episode and the count
    assert isinstance(info.value.__cause__, OSError)
    assert "injected failure of write 1" in str(info.value.__cause__)
    assert "the next demo (env 1): OSError: injected failure of write 1" in str(info.value)
    assert _not_written(info.value) == 1
    # the failed write published nothing and took no name: episode 2 is demo_1
    assert handler.written == ["demo_0", "demo_1"] and handler.tags == [0, 2]
    stats = writer.statistics
    assert stats.episodes_submitted == 3 and stats.episodes_written == 2 and stats.episodes_failed == 1
    assert stats.episodes_queued == 0 and stats.bytes_queued == 0
    writer.raise_if_failed()  # reported once
    writer.flush()
    writer.close()


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
    assert handler.written == [f"demo_{i}" for i in range(200)] and handler.tags == list(range(200))
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
    assert handler.written == ["demo_0", "demo_1", "demo_2"] and handler.tags == [0, 1, 2]
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
    assert handler.written == ["demo_0", "demo_1", "demo_2"] and handler.tags == [0, 1, 2]
    assert stats.peak_queue_depth == 1 and stats.peak_queue_bytes == big.nbytes
    assert stats.blocked_seconds >= 0.15


def test_close_drains_joins_and_is_idempotent(writers):
    handler = MemoryHandler(delay_s=0.01)
    writer = writers(asynchronous=True, max_queue_episodes=20)
    for index in range(10):
        writer.submit(make_job(handler, index))
    before = len(writer_threads())
    writer.close()
    assert handler.written == [f"demo_{i}" for i in range(10)] and handler.tags == list(range(10))
    assert len(writer_threads()) == before - 1
    writer.close()
    writer.flush()  # a closed writer has nothing left to wait for
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(make_job(handler, 10))
    assert writer.statistics.episodes_submitted == 10 and writer.statistics.episodes_written == 10


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_env_args_are_merged_before_the_episode_and_write_episode_gets_id_and_compression(writers, asynchronous):
    handler, other = MemoryHandler(), MemoryHandler()
    written = []
    writer = writers(asynchronous=asynchronous)
    writer.submit(
        make_job(
            handler,
            0,
            env_args=[(handler, {"sim_args": {"dt": 0.01}}), (other, {"lang": "stack"})],
            on_written=lambda: written.append((len(handler.written), handler.flushes)),
        )
    )
    writer.submit(make_job(handler, 1, demo_id=7, dataset_compression=False))
    writer.flush()
    kinds = [call[0] for call in handler.calls]
    assert kinds == ["add_env_args", "write", "flush", "write", "flush"]
    assert handler.env_args == {"sim_args": {"dt": 0.01}} and other.env_args == {"lang": "stack"}
    assert [call[0] for call in other.calls] == ["add_env_args"]  # metadata only: nothing written to it
    assert handler.calls[1][1:3] == ("demo_0", True)
    assert handler.calls[3][1:3] == ("demo_7", False)
    # on_written ran once, after the episode was written and flushed
    assert written == [(1, 1)]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_metadata_only_job_merges_env_args_and_is_not_an_episode(writers, asynchronous):
    handler = MemoryHandler()
    called = []
    writer = writers(asynchronous=asynchronous)
    job = EpisodeWriteJob(
        file_handler=handler, episode=None, env_args=[(handler, {"round": 1})], on_written=lambda: called.append(1)
    )
    assert job.nbytes == 0
    writer.submit(job)
    writer.flush()
    assert [call[0] for call in handler.calls] == ["add_env_args", "flush"]
    assert handler.env_args == {"round": 1} and handler.written == []
    assert called == [1]
    stats = writer.statistics
    assert stats.episodes_submitted == stats.episodes_written == stats.episodes_queued == 0
    assert stats.bytes_written == 0 and stats.episodes_failed == 0


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_on_written_is_not_called_for_a_failed_write(writers, asynchronous):
    handler = MemoryHandler(fail_at={0})
    called = []
    writer = writers(asynchronous=asynchronous)
    with contextlib.suppress(OSError, EpisodeWriteError):
        writer.submit(make_job(handler, 0, on_written=lambda: called.append(0)))
        writer.flush()
    assert called == [] and handler.written == []
    assert writer.statistics.episodes_failed == 1


def test_statistics_have_no_export_time():
    # the recorder manager times its export calls itself (RecorderManager.export_seconds)
    assert "export_seconds" not in {field.name for field in dataclasses.fields(WriterStatistics)}
    assert not hasattr(EpisodeWriter, "add_export_seconds")


def test_job_description_names_the_demo_and_the_env(tmp_path):
    handler = MemoryHandler()
    assert make_job(handler, 3).description == "the next demo (env 3)"
    assert make_job(handler, 3, demo_id=12).description == "demo_12 (env 3)"
    # a name reserved at export is only used in messages; the write itself gets demo_id
    assert make_job(handler, 3, demo_id=12, episode_name="demo_12").description == "demo_12 (env 3)"
    assert make_job(handler, 4, episode_name="demo_7").description == "demo_7 (env 4)"
    hdf5 = HDF5DatasetFileHandler()
    hdf5.create(str(tmp_path / "named"))
    job = EpisodeWriteJob(file_handler=hdf5, episode=None)
    assert job.description == f"the next demo (env None) of '{tmp_path / 'named.hdf5'}'"
    hdf5.close()


"""
Errors.
"""


def _not_written(error: BaseException) -> int:
    match = re.search(r"(\d+) episode\(s\) not written", str(error))
    assert match, f"no count of unwritten episodes in: {error}"
    return int(match.group(1))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("surface", ["flush", "close"])
def test_write_error_is_reported_once_chained_and_the_writer_goes_on(writers, surface):
    gate = threading.Event()
    handler = MemoryHandler(fail_at={1}, gate=gate)
    writer = writers(asynchronous=True)
    for index in range(3):
        writer.submit(make_job(handler, index))
    gate.set()  # the writer starts only once all three are queued
    with pytest.raises(EpisodeWriteError) as reported:
        writer.flush() if surface == "flush" else writer.close()
    assert isinstance(reported.value.__cause__, OSError)
    assert "injected failure of write 1" in str(reported.value)
    # the failed job is named by its episode (names of the running count are given only at write time)
    assert "the next demo (env 1)" in str(reported.value)
    assert _not_written(reported.value) == 1
    if surface == "flush":
        # the writer goes on taking and writing episodes; the failure is not reported again
        writer.submit(make_job(handler, 3))
        writer.close()
    stats = writer.statistics
    assert stats.episodes_failed == 1 and stats.episodes_queued == 0
    # episode 1 is not in the file, and the later episodes moved down into its name: no gap
    expected_tags = [0, 2, 3] if surface == "flush" else [0, 2]
    assert handler.tags == expected_tags and handler.written == [f"demo_{i}" for i in range(len(expected_tags))]
    assert stats.episodes_written == len(expected_tags)


@pytest.mark.timeout(30)
def test_a_failing_writer_still_makes_room_for_a_blocked_submit(writers):
    handler = MemoryHandler(delay_s=0.05, fail_at={0, 1, 2})
    writer = writers(asynchronous=True, max_queue_episodes=1)
    writer.submit(make_job(handler, 0))
    writer.submit(make_job(handler, 1))  # blocks on the full queue until the failed write frees its place
    writer.submit(make_job(handler, 2))
    with pytest.raises(EpisodeWriteError) as info:
        writer.close()
    assert _not_written(info.value) == 3
    assert writer.statistics.episodes_failed == 3 and writer.statistics.blocked_seconds > 0


"""
With the real HDF5 handler.
"""


def test_async_writer_with_the_hdf5_handler(tmp_path, writers):
    handler = HDF5DatasetFileHandler()
    handler.create(str(tmp_path / "data"), env_name="Writer-v0")
    writer = writers(asynchronous=True, max_queue_episodes=3)
    for index in range(12):
        assert handler.reserve_episode_names([None]) == [f"demo_{index}"]
        job = EpisodeWriteJob(
            file_handler=handler,
            episode=make_episode(index, steps=3),
            env_args=[(handler, {"round": index})],
        )
        writer.submit(job)
    writer.close()
    assert handler.get_num_episodes() == 12
    handler.close()
    with h5py.File(tmp_path / "data.hdf5", "r") as file:
        data = file["data"]
        assert sorted(data.keys(), key=lambda n: int(n.split("_")[1])) == [f"demo_{i}" for i in range(12)]
        for index in range(12):
            np.testing.assert_array_equal(data[f"demo_{index}/actions"][:, 0], [index, index + 1, index + 2])
            assert data[f"demo_{index}"].attrs["num_samples"] == 3
        assert data.attrs["total"] == 36
        assert '"round": 11' in data.attrs["env_args"] and '"env_name": "Writer-v0"' in data.attrs["env_args"]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_failed_write_leaves_no_gap_with_the_hdf5_handler(tmp_path, writers, asynchronous):
    handler = HDF5DatasetFileHandler()
    handler.create(str(tmp_path / "data"))
    bad = EpisodeData()
    bad.add("actions", torch.zeros(4))
    bad.add("actions", torch.zeros(5))  # cannot be stacked: the write fails
    episodes = [make_episode(0, steps=1), bad, make_episode(2, steps=3)]
    writer = writers(asynchronous=asynchronous)
    names = handler.reserve_episode_names([None] * 3)
    assert names == ["demo_0", "demo_1", "demo_2"]
    for episode, name in zip(episodes, names):
        writer.submit(EpisodeWriteJob(file_handler=handler, episode=episode, episode_name=name))
    with pytest.raises(EpisodeWriteError, match="1 episode"):
        writer.close()
    stats = writer.statistics
    assert stats.episodes_written == 2 and stats.episodes_failed == 1
    assert sorted(handler.get_episode_names()) == ["demo_0", "demo_1"] and handler.get_num_episodes() == 2
    assert handler.reserve_episode_names([None]) == ["demo_2"]
    handler.close()
    with h5py.File(tmp_path / "data.hdf5", "r") as file:
        np.testing.assert_array_equal(file["data/demo_0/actions"][:, 0], [0])
        np.testing.assert_array_equal(file["data/demo_1/actions"][:, 0], [2, 3, 4])
        assert file["data"].attrs["total"] == 4
