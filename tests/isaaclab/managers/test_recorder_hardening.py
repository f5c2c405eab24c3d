# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Hardening of the recorder: no hang on a taken demo name, no destroyed file when another process writes it, one bad
record or failed write never stops the other episodes, settings checked when the recorder is built, a byte bound that
counts what queued episodes hold, and a program that ends (SIGTERM, or losing episodes) says so in its exit status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import _async_helpers as helpers
import h5py
import numpy as np
import pytest
import torch

from isaaclab.managers import DatasetExportMode
from isaaclab.managers.recorder_manager import _TENSOR_OVERHEAD_BYTES
from isaaclab.utils.datasets import EpisodeWriteError, HDF5DatasetFileHandler

pytestmark = pytest.mark.unit

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


def _export_round(manager, env, num_steps: int = 2, success: bool = True) -> list[int]:
    manager.record_post_reset(None)
    steps = helpers.record_steps(manager, env, num_steps)
    manager.set_success_to_episodes(None, torch.full((env.num_envs,), success))
    manager.export_episodes()
    return steps


"""
1. A taken demo name is refused at once, while the writer holds the file.
"""


class _HeldWriteHandler(HDF5DatasetFileHandler):
    """An HDF5 handler whose writes wait, with the file lock held, until ``release`` is set."""

    inside = threading.Event()
    release = threading.Event()

    def _write_and_publish(self, name, episode, dataset_compression):
        type(self).inside.set()
        assert type(self).release.wait(60)
        super()._write_and_publish(name, episode, dataset_compression)


@pytest.mark.timeout(60)
def test_a_taken_demo_name_is_refused_while_the_writer_holds_the_file_and_nothing_is_exported(recorder):
    handler = type("Held", (_HeldWriteHandler,), {"inside": threading.Event(), "release": threading.Event()})
    manager, env = recorder(async_write=True, dataset_file_handler_class_type=handler)
    steps = helpers.record_steps(manager, env, 2)
    manager.export_episodes([0, 1], demo_ids=[5, 2])
    assert handler.inside.wait(30)  # the writer is inside its write of demo_5, holding the file lock
    outcome = {}

    def export_taken_names():
        try:
            manager.export_episodes([2, 3], demo_ids=[7, 5])  # demo_5 is taken: written now
        except ValueError as error:
            outcome["error"] = error

    caller = threading.Thread(target=export_taken_names)
    caller.start()
    caller.join(30)
    assert not caller.is_alive(), "the export hung on the writer's file lock"
    assert "demo_5" in str(outcome["error"]) and "already exists" in str(outcome["error"])
    # nothing of that call was handed over: demo_7 is not reserved, and envs 2 and 3 keep their episodes
    assert not manager.get_episode(2).is_empty() and not manager.get_episode(3).is_empty()
    handler.release.set()
    manager.export_episodes([2, 3], demo_ids=[7, 8])
    # the running count reaches demo_2, which a custom id took: refused when exported, with no hang
    helpers.record_steps(manager, env, 1)
    manager.export_episodes([0, 1])  # running names demo_0 and demo_1
    helpers.record_steps(manager, env, 1)
    with pytest.raises(ValueError, match="demo_2"):
        manager.export_episodes([0])
    manager.close()
    path = os.path.join(manager.cfg.dataset_export_dir_path, "dataset.hdf5")
    assert helpers.demo_names(path) == ["demo_0", "demo_1", "demo_2", "demo_5", "demo_7", "demo_8"]
    helpers.assert_demo_equals(path, "demo_5", helpers.expected_demo(steps, 0))


"""
2. A dataset file another process writes is refused, untouched.
"""


@pytest.mark.timeout(120)
def test_a_dataset_file_another_process_writes_is_refused_and_left_intact(tmp_path, recorder):
    holder = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "_exit_worker.py"), "hold", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE,
    )
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        path = tmp_path / "dataset.hdf5"
        size = path.stat().st_size
        with pytest.raises(BlockingIOError, match=f"'{path}' is open for writing in another process"):
            recorder(async_write=True)
        assert path.stat().st_size == size
        holder.stdin.write("go\n")
        holder.stdin.flush()
        report = json.loads(holder.stdout.readline())
        assert holder.wait(60) == 0, holder.stderr.read()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    # the first process wrote both rounds into its file, which opens as usual
    assert report["written"] == 8
    assert helpers.demo_names(path) == [f"demo_{index}" for index in range(8)]


"""
3. One bad record, or one failed write, never stops the other episodes.
"""


@pytest.mark.parametrize(
    "value, error, message",
    [
        ({"obs//x": torch.zeros(4, 1)}, ValueError, "empty, '.' or '..' part"),
        ({"/x": torch.zeros(4, 1)}, ValueError, "empty, '.' or '..' part"),
        ({".": torch.zeros(4, 1)}, ValueError, "empty, '.' or '..' part"),
        ({"": torch.zeros(4, 1)}, ValueError, "empty, '.' or '..' part"),
        ({"sparse": torch.zeros(4, 2).to_sparse()}, TypeError, "dense tensor"),
        ({"a": torch.zeros(4, 1), "a/b": torch.zeros(4, 1)}, ValueError, "it is also a group of keys"),
        ({"ok": torch.zeros(4, 1), "bad": torch.zeros(3, 1)}, ValueError, "one row per environment id"),
    ],
    ids=["double_slash", "leading_slash", "dot", "empty", "sparse", "leaf_and_group", "rows"],
)
def test_a_bad_record_is_refused_whole_naming_the_key_and_nothing_is_appended(recorder, value, error, message):
    manager, env = recorder()
    helpers.record_steps(manager, env, 1)
    before = manager.episode_memory
    with pytest.raises(error, match=message):
        manager.add_to_episodes("obs", value)
    assert manager.episode_memory == before
    assert sorted(manager.get_episode(0).data["obs"]) == ["cam0", "eef_pos"]


@pytest.mark.parametrize("asynchronous", MODES)
def test_one_env_recording_a_bad_key_every_round_never_stops_the_others(tmp_path, recorder, asynchronous):
    manager, env = recorder(async_write=asynchronous)
    for _ in range(11):
        manager.record_post_reset(None)
        helpers.record_steps(manager, env, 2)
        with pytest.raises(ValueError, match="'obs//bad'"):
            manager.add_to_episodes("obs//bad", torch.zeros(1, 2), [1])
        manager.set_success_to_episodes(None, torch.ones(4, dtype=torch.bool))
        manager.export_episodes()
    manager.close()
    assert helpers.demo_names(tmp_path / "dataset.hdf5") == [f"demo_{index}" for index in range(44)]
    assert manager.exported_successful_episode_count == 44


@pytest.mark.parametrize("asynchronous", MODES)
def test_one_env_failing_to_write_every_round_never_stops_the_others(tmp_path, recorder, asynchronous):
    handler = helpers.handler_class(fail_at=set(range(1, 44, 4)))  # env 1's episode of every round
    manager, env = recorder(async_write=asynchronous, dataset_file_handler_class_type=handler)
    reported = 0
    for _ in range(11):
        try:
            _export_round(manager, env)
            manager.flush()
        except EpisodeWriteError as error:
            reported += int(error.args[0].split(" episode(s) not written")[0].rsplit(" ", 1)[1])
        # no episode is kept to fail again: every env starts its next round empty
        assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    manager.close()
    assert reported == manager.writer_statistics.episodes_failed == 11
    assert helpers.demo_names(tmp_path / "dataset.hdf5") == [f"demo_{index}" for index in range(33)]
    assert handler.instances[0].written_env_ids == [0, 2, 3] * 11


"""
4. Settings are checked when the recorder is built.
"""


@pytest.mark.parametrize(
    "changes, error, message",
    [
        ({"dataset_export_mode": 7}, ValueError, "dataset_export_mode must be a DatasetExportMode"),
        ({"dataset_export_mode": "EXPORT_SOME"}, ValueError, "expected one of EXPORT_NONE"),
        ({"dataset_export_mode": True}, ValueError, "dataset_export_mode"),
        ({"async_write": "no"}, TypeError, "async_write must be True or False, got 'no'"),
        ({"early_cpu_offload": 1}, TypeError, "early_cpu_offload must be True or False"),
        ({"dataset_compression": "yes"}, TypeError, "dataset_compression must be True or False"),
        ({"async_queue_size": 0}, ValueError, "async_queue_size must be a positive integer, got 0"),
        ({"async_queue_max_bytes": 1.5e9}, ValueError, "async_queue_max_bytes must be a positive integer"),
        ({"dataset_filename": ""}, ValueError, "dataset_filename must be a file name"),
        ({"dataset_file_handler_class_type": "hdf5"}, TypeError, "must be a dataset file handler class"),
    ],
)
def test_bad_settings_fail_when_the_recorder_is_built_naming_the_setting(tmp_path, recorder, changes, error, message):
    with pytest.raises(error, match=message):
        recorder(**changes)
    assert not (tmp_path / "dataset.hdf5").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"dataset_compression_threads": 0}, "compression threads must be a positive integer, got 0"),
        ({"dataset_compression_threads": 2.5}, "got 2.5"),
        ({"dataset_compression_threads": "5"}, "got '5'"),
        ({"dataset_compression_level": 2.5}, "level must be an integer in 0-9, got 2.5"),
        ({"dataset_compression_level": None}, "level must be an integer in 0-9, got None"),
        ({"dataset_compression_level": "5"}, "got '5'"),
        ({"dataset_compression_codec": "lzf", "dataset_compression_level": 99}, "got 99"),
        ({"dataset_compression_codec": "zstd"}, "Unknown dataset compression codec 'zstd'"),
    ],
)
def test_bad_compression_settings_fail_when_the_recorder_is_built(tmp_path, recorder, changes, message):
    with pytest.raises(ValueError, match=message):
        recorder(**changes)
    assert not (tmp_path / "dataset.hdf5").exists()


@pytest.mark.parametrize("mode", ["EXPORT_SUCCEEDED_ONLY", 3, np.int64(3)])
def test_export_mode_given_by_name_or_value_works(tmp_path, recorder, mode):
    manager, env = recorder(dataset_export_mode=mode)
    assert manager.cfg.dataset_export_mode is DatasetExportMode.EXPORT_SUCCEEDED_ONLY
    _export_round(manager, env, success=True)
    _export_round(manager, env, success=False)
    manager.close()
    assert len(helpers.demo_names(tmp_path / "dataset.hdf5")) == 4


@pytest.mark.parametrize("demo_ids", [["x", 1], [1.5, 2], [True, 2], [-1, 2], ["a/b", 2], "ab"])
def test_bad_demo_ids_are_refused_and_nothing_is_exported(tmp_path, recorder, demo_ids):
    manager, env = recorder()
    helpers.record_steps(manager, env, 1)
    with pytest.raises(ValueError, match="demo_ids must be"):
        manager.export_episodes([0, 1], demo_ids=demo_ids)
    assert not manager.get_episode(0).is_empty()
    manager.close()
    assert helpers.demo_names(tmp_path / "dataset.hdf5") == []


"""
5. The byte bound counts what queued episodes hold.
"""


@pytest.mark.timeout(60)
def test_queued_bytes_are_what_the_queued_episodes_hold(recorder):
    gate = threading.Event()
    handler = helpers.handler_class(gate=gate)
    manager, env = recorder(async_write=True, async_queue_size=64, dataset_file_handler_class_type=handler)
    helpers.record_steps(manager, env, 2000)
    manager.export_episodes()
    assert handler.instances[0].started.wait(30)
    # every queued episode is one stacked tensor per key: its memory is that of its tensors and their bookkeeping
    queued = [job.episode for job in manager._writer._queue]
    held = 0
    for episode in queued:
        tensors = list(helpers._leaf_values(episode.data))
        assert len(tensors) == 5 and all(tensor.shape[0] == 2000 for tensor in tensors)
        held += sum(tensor.untyped_storage().nbytes() + _TENSOR_OVERHEAD_BYTES for tensor in tensors)
    assert manager.writer_statistics.bytes_queued == held
    gate.set()
    manager.close()


"""
6. A program that ends: SIGTERM drains, and lost episodes make the exit status non-zero.
"""


def _run_exit_worker(scenario: str, out_dir, signal_after_ready: bool):
    process = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "_exit_worker.py"), scenario, str(out_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE,
    )
    try:
        ready = process.stdout.readline()
        assert ready.startswith("ready "), process.stderr.read()
        if signal_after_ready:
            process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return json.loads(ready[len("ready ") :]), process.returncode, stdout, stderr


@pytest.mark.timeout(180)
def test_sigterm_writes_every_queued_episode_and_exits_143(tmp_path):
    report, code, _, stderr = _run_exit_worker("sigterm", tmp_path, signal_after_ready=True)
    assert report["written"] < report["submitted"] == 16  # episodes were still queued when the signal came
    assert code == 128 + signal.SIGTERM, stderr
    assert helpers.demo_names(tmp_path / "dataset.hdf5") == [f"demo_{index}" for index in range(16)]
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert file["data"].attrs["total"] == 16 * 3


@pytest.mark.timeout(180)
def test_a_program_that_handles_sigterm_itself_keeps_its_handler(tmp_path):
    _, code, stdout, stderr = _run_exit_worker("own_handler", tmp_path, signal_after_ready=True)
    assert code == 0, stderr
    assert "own handler ran" in stdout
    assert len(helpers.demo_names(tmp_path / "dataset.hdf5")) == 16


@pytest.mark.timeout(180)
def test_a_program_that_loses_episodes_at_exit_exits_with_status_1(tmp_path):
    report, code, _, stderr = _run_exit_worker("lost", tmp_path, signal_after_ready=False)
    assert report["submitted"] == 16
    assert code == 1
    assert "Error at exit" in stderr and "16 episode(s) not written" in stderr
    assert helpers.demo_names(tmp_path / "dataset.hdf5") == []
