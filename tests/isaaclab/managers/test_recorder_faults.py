# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Fault injection: what the recorder does, and leaves on disk, when writing goes wrong or callers misbehave.

Every test checks what a user would: the file opens with plain h5py, it holds only complete demos numbered without
gaps, the counts add up, and the error names the problem (the path, how many episodes were not written).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading

import _async_helpers as helpers
import h5py
import pytest
import torch

from isaaclab.managers import DatasetExportMode
from isaaclab.utils.datasets import EpisodeWriteError

pytestmark = pytest.mark.unit

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


def _run_worker(scenario: str, out_dir, asynchronous: bool, prefix: tuple[str, ...] = ()) -> dict:
    """Run a scenario of ``_fault_worker.py`` in a subprocess; returns its JSON report."""
    command = [*prefix, sys.executable, os.path.join(HERE, "_fault_worker.py"), scenario, str(out_dir)]
    command.append("async" if asynchronous else "sync")
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=HERE)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_complete_demos(path, expected_count: int) -> None:
    """The file opens with plain h5py and holds ``demo_0 .. demo_<n-1>``, each complete (every dataset readable,
    ``num_samples`` matching its actions), and ``total`` adds them up."""
    with h5py.File(path, "r") as file:
        names = sorted(file["data"], key=lambda name: int(name.split("_")[1]))
        assert names == [f"demo_{index}" for index in range(expected_count)]
        total = 0
        for name in names:
            demo = file["data"][name]
            assert len(demo["actions"][()]) == demo.attrs["num_samples"] > 0
            demo.visititems(lambda _, item: item[()] if isinstance(item, h5py.Dataset) else None)
            total += int(demo.attrs["num_samples"])
        assert file["data"].attrs["total"] == total


def _export_round(manager, env, num_steps: int = 3, success: bool = True) -> None:
    manager.record_post_reset(None)
    helpers.record_steps(manager, env, num_steps)
    manager.set_success_to_episodes(None, torch.full((env.num_envs,), success))
    manager.export_episodes()


@pytest.mark.parametrize("asynchronous", MODES)
def test_disk_full_leaves_complete_demos_and_reports_the_loss(tmp_path, asynchronous):
    report = _run_worker("disk_full", tmp_path, asynchronous)

    # the export that hit the limit (or the flush after it) raised, saying how many episodes were not written
    error = report["export_error"]
    assert error is not None and error["type"] == "EpisodeWriteError"
    assert "1 episode(s) not written" in error["message"] and "File too large" in error["message"]
    assert str(tmp_path / "dataset.hdf5") in error["message"]
    # close() raised the recorder's error too, not h5py's
    assert report["close_error"]["type"] == "EpisodeWriteError"
    assert "not written" in report["close_error"]["message"]
    # the counts say what was written; the failed episode is counted as failed, not as exported
    assert report["successful_count"] == report["episodes_written"] >= report["exported_before_error"] > 0
    assert report["episodes_failed"] == 1
    _assert_complete_demos(tmp_path / "dataset.hdf5", report["episodes_written"])


@pytest.mark.parametrize("asynchronous", MODES)
def test_permission_denied_names_the_path(tmp_path, asynchronous):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    prefix = ()
    if os.geteuid() == 0:
        # root ignores file permissions unless it drops the capabilities that override them
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    try:
        report = _run_worker("permission_denied", read_only / "out", asynchronous, prefix)
    finally:
        read_only.chmod(stat.S_IRWXU)
    error = report["create_error"]
    assert error is not None and error["type"] == "PermissionError"
    assert str(read_only / "out") in error["message"]
    assert not (read_only / "out").exists()


@pytest.mark.parametrize("asynchronous", MODES)
def test_export_directory_removed_mid_run_is_reported(tmp_path, recorder, asynchronous):
    out = tmp_path / "run"
    manager, env = recorder(export_dir=out, async_write=asynchronous)
    _export_round(manager, env)
    manager.flush()
    shutil.rmtree(out)

    # the export reports the failures the writer has met by then (async: any number of them), the flush the rest
    messages = []
    for step in (lambda: _export_round(manager, env), manager.flush):
        try:
            step()
        except EpisodeWriteError as error:
            messages.append(str(error))
    assert messages
    for message in messages:
        assert "was deleted or replaced while it was being written" in message
        assert str(out / "dataset.hdf5") in message
    # every episode of the round is reported lost, once
    assert sum(int(re.search(r"(\d+) episode\(s\) not written", m).group(1)) for m in messages) == env.num_envs
    # the loss was reported to the caller once; closing does not raise it again
    manager.close()


@pytest.mark.parametrize("asynchronous", MODES)
def test_a_failing_nth_write_leaves_no_gap_and_counts_only_what_was_written(tmp_path, recorder, asynchronous):
    handler = helpers.handler_class(fail_at={2})
    manager, env = recorder(async_write=asynchronous, dataset_file_handler_class_type=handler)
    failures = []
    for _ in range(3):
        try:
            _export_round(manager, env)
            manager.flush()
        except EpisodeWriteError as error:
            failures.append(str(error))
    # the failure is reported once, by the export (sync) or flush (async) of its round; the rounds after it write
    manager.close()

    assert len(failures) == 1 and "1 episode(s) not written" in failures[0]
    written = handler.instances[0].written_names
    assert written == [f"demo_{index}" for index in range(11)]
    assert manager.exported_successful_episode_count == len(written)
    assert manager.writer_statistics.episodes_failed == 1
    assert manager.writer_statistics.episodes_submitted == len(written) + 1
    _assert_complete_demos(tmp_path / "dataset.hdf5", len(written))


def test_close_closes_every_file_when_one_fails_then_raises(tmp_path, recorder):
    handler = helpers.handler_class(fail_close=True)
    manager, env = recorder(
        dataset_file_handler_class_type=handler,
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES,
    )
    _export_round(manager, env, success=True)
    _export_round(manager, env, success=False)
    with pytest.raises(EpisodeWriteError, match="Closing the dataset file .*dataset.hdf5.* failed"):
        manager.close()
    assert len(handler.instances) == 2
    assert all(instance.file_path is None for instance in handler.instances)
    _assert_complete_demos(tmp_path / "dataset.hdf5", env.num_envs)
    _assert_complete_demos(tmp_path / "dataset_failed.hdf5", env.num_envs)
    # closing again does nothing
    manager.close()


@pytest.mark.parametrize("asynchronous", MODES)
def test_export_after_close_says_the_recorder_is_closed(recorder, asynchronous):
    manager, env = recorder(async_write=asynchronous)
    _export_round(manager, env)
    manager.close()
    manager.record_post_reset(None)
    helpers.record_steps(manager, env, 2)
    with pytest.raises(RuntimeError, match="recorder manager is closed"):
        manager.export_episodes()


@pytest.mark.parametrize("asynchronous", MODES)
def test_concurrent_callers_write_every_episode_exactly_once(tmp_path, recorder, data_env, asynchronous):
    """Threads record and export their own envs at the same time: every episode is written once, none is lost."""
    num_threads, rounds, steps = 4, 8, 3
    manager, env = recorder(env=data_env(num_envs=num_threads), async_write=asynchronous, async_queue_size=2)
    barrier = threading.Barrier(num_threads)
    errors = []

    def worker(env_id: int) -> None:
        try:
            for round_index in range(rounds):
                barrier.wait()
                for step in range(steps):
                    value = torch.full((1, helpers.ACTION_DIM), float(1000 * env_id + 10 * round_index + step))
                    manager.add_to_episodes("actions", value, [env_id])
                manager.set_success_to_episodes([env_id], torch.tensor([True]))
                manager.export_episodes([env_id])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(env_id,)) for env_id in range(num_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    manager.close()

    assert not errors
    assert manager.exported_successful_episode_count == num_threads * rounds
    _assert_complete_demos(tmp_path / "dataset.hdf5", num_threads * rounds)
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        firsts = sorted(int(file["data"][name]["actions"][0, 0]) for name in file["data"])
    # each (env, round) episode exactly once, with its own steps
    assert firsts == sorted(
        1000 * env_id + 10 * round_index for env_id in range(num_threads) for round_index in range(rounds)
    )
