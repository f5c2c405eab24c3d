# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Tests of the recorder manager's asynchronous export (in process: real writer thread, real HDF5 files).

Covers equivalence of sync and async files, snapshot isolation, back-pressure, error surfacing, thread safety of the
file handler, and early CPU offload. The subprocess tests (interpreter exit without ``close()``, SIGKILL) are in
``test_recorder_crash_safety.py``.
"""

from __future__ import annotations

import json
import re
import threading
import time

import _async_helpers as helpers
import h5py
import numpy as np
import pytest
import torch
from _async_helpers import (
    assert_demo_equals,
    assert_trees_equal,
    demo_names,
    expected_demo,
    handler_class,
    read_tree,
    record_steps,
    wait_until,
)

from isaaclab.managers import DatasetExportMode
from isaaclab.managers.recorder_manager import _TENSOR_OVERHEAD_BYTES
from isaaclab.utils.datasets import DatasetFileHandlerBase, EpisodeWriteError

pytestmark = pytest.mark.unit

WRITER_THREAD = "isaaclab-episode-writer"
ALL_MODES = list(DatasetExportMode)


def _files(tmp_path, name="dataset"):
    return tmp_path / f"{name}.hdf5", tmp_path / f"{name}_failed.hdf5"


"""
1. Equivalence of synchronous and asynchronous export.
"""


def _run_scenario(manager, env, use_demo_ids: bool) -> None:
    """A fixed job: resets through record_pre_reset with success from the termination term, partial exports in a
    shuffled env order, explicit success flags, a seed, and (optionally) custom demo ids."""
    manager.reset()
    manager.record_post_reset(None)
    record_steps(manager, env, 3)
    env.success[:] = torch.tensor([True, False, False, True])
    manager.record_pre_reset([0, 2])  # exports env 0 (succeeded) and env 2 (failed)
    manager.record_post_reset([0, 2])

    record_steps(manager, env, 2)
    manager.get_episode(1).seed = 7
    manager.set_success_to_episodes([1, 3], torch.tensor([True, False]))
    manager.export_episodes([3, 1], demo_ids=[31, 11] if use_demo_ids else None)

    record_steps(manager, env, 4)
    manager.set_success_to_episodes(None, torch.tensor([False, True, True, False]))
    manager.export_episodes(None, demo_ids=[40, 41, 42, 43] if use_demo_ids else None)

    # an empty episode (env 1 was just exported) is skipped; env 2 gets a one-step episode
    manager.add_to_episodes("actions", torch.full((1, 3), 5.0), [2])
    manager.export_episodes([1, 2], demo_ids=[50, 52] if use_demo_ids else None)


def _equivalence_cases():
    """Every export mode with and without demo ids; compression and offload vary so that each mode sees both values
    of each, and every pair of (compression, offload, demo ids) values occurs (a pairwise design, 8 cases)."""
    cases = []
    for mode, (flip_compression, flip_offload) in zip(ALL_MODES, [(0, 0), (0, 1), (1, 0), (1, 1)]):
        for use_demo_ids in (False, True):
            compression = not bool(use_demo_ids ^ flip_compression)
            offload = bool(use_demo_ids ^ flip_offload)
            case_id = f"{mode.name}-{'gzip' if compression else 'raw'}-{'offload' if offload else 'no_offload'}-" + (
                "demo_ids" if use_demo_ids else "running_ids"
            )
            cases.append(pytest.param(mode, compression, offload, use_demo_ids, id=case_id))
    return cases


@pytest.mark.parametrize("mode, compression, offload, use_demo_ids", _equivalence_cases())
def test_sync_and_async_files_are_identical(tmp_path, recorder, data_env, mode, compression, offload, use_demo_ids):
    results = {}
    for label, async_write in (("sync", False), ("async", True)):
        out = tmp_path / label
        manager, env = recorder(
            env=data_env(num_envs=4),
            export_dir=out,
            async_write=async_write,
            async_queue_size=2,
            early_cpu_offload=offload,
            dataset_compression=compression,
            dataset_export_mode=mode,
            # a slightly slow writer keeps the async queue busy while the scenario goes on
            dataset_file_handler_class_type=handler_class(delay_s=0.002 if async_write else 0.0),
        )
        _run_scenario(manager, env, use_demo_ids)
        # episodes are counted once written: in async mode, wait for the writer before reading the counts
        manager.flush()
        counts = (manager.exported_successful_episode_count, manager.exported_failed_episode_count)
        manager.close()
        main, failed = _files(out)
        results[label] = {
            "counts": counts,
            "main": read_tree(main) if main.exists() else None,
            "failed": read_tree(failed) if failed.exists() else None,
            "written": manager.writer_statistics.episodes_written,
        }

    sync, async_ = results["sync"], results["async"]
    assert async_["counts"] == sync["counts"] == (4, 5)
    assert async_["written"] == sync["written"]
    if mode == DatasetExportMode.EXPORT_NONE:
        assert sync["main"] is None and async_["main"] is None
        assert sync["failed"] is None and async_["failed"] is None
        assert sync["written"] == 0
        return
    assert (sync["failed"] is None) == (mode != DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES)
    for which in ("main", "failed"):
        if sync[which] is None:
            assert async_[which] is None
            continue
        assert_trees_equal(async_[which], sync[which])

    # the sync reference itself is what the modes prescribe (so that "equal" is not "equally wrong")
    main_tree = sync["main"]
    demos = [name.split("/")[1] for name in main_tree if re.fullmatch(r"data/demo_\d+", name)]
    successes = [main_tree[f"data/{name}"]["attrs"].get("success", (None, None))[1] for name in demos]
    expected_main = {
        DatasetExportMode.EXPORT_ALL: 9,
        DatasetExportMode.EXPORT_SUCCEEDED_ONLY: 4,
        DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES: 4,
    }[mode]
    assert len(demos) == expected_main
    if mode != DatasetExportMode.EXPORT_ALL:
        assert all(successes)
    if use_demo_ids:
        assert {"demo_11", "demo_41", "demo_42"} <= set(demos)
    else:
        assert sorted(demos) == sorted(f"demo_{i}" for i in range(expected_main))
    total = sum(main_tree[f"data/{name}"]["attrs"]["num_samples"][1] for name in demos)
    assert main_tree["data"]["attrs"]["total"][1] == total
    env_args = main_tree["data"]["attrs"]["env_args"]
    assert env_args["env_name"] == helpers.ENV_NAME and env_args["type"] == 2
    assert env_args["sim_args"] == {"dt": 0.005, "decimation": 2, "render_interval": 2, "num_envs": 4}
    dataset = main_tree[f"data/{demos[0]}/actions"]
    assert dataset["compression"] == ("gzip" if compression else None)


def test_async_file_holds_the_recorded_values(recorder, tmp_path):
    manager, env = recorder(async_write=True, dataset_file_handler_class_type=handler_class(delay_s=0.01))
    manager.record_post_reset(None)
    steps = record_steps(manager, env, 5)
    manager.set_success_to_episodes(None, torch.tensor([True, False, True, False]))
    manager.get_episode(2).seed = 1234
    manager.export_episodes([2, 0, 3, 1])
    manager.close()
    path = _files(tmp_path)[0]
    assert demo_names(path) == ["demo_0", "demo_1", "demo_2", "demo_3"]
    for demo_index, env_id in enumerate([2, 0, 3, 1]):
        assert_demo_equals(path, f"demo_{demo_index}", expected_demo(steps, env_id, initial_reset=1))
    with h5py.File(path, "r") as file:
        assert [bool(file[f"data/demo_{i}"].attrs["success"]) for i in range(4)] == [True, True, False, False]
        assert file["data/demo_0"].attrs["seed"] == 1234 and "seed" not in file["data/demo_1"].attrs
        assert all(file[f"data/demo_{i}"].attrs["num_samples"] == 5 for i in range(4))
        assert file["data"].attrs["total"] == 20


"""
2. Isolation: queued snapshots own their memory.
"""


def _devices():
    cuda = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"))
    return ["cpu", cuda]


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("offload", [False, True], ids=["no_offload", "offload"])
def test_overwriting_source_buffers_after_export_does_not_change_the_file(
    recorder, data_env, tmp_path, device, offload
):
    handler = handler_class(delay_s=0.05)
    manager, env = recorder(
        env=data_env(num_envs=4, device=device),
        async_write=True,
        early_cpu_offload=offload,
        async_queue_size=64,
        dataset_file_handler_class_type=handler,
    )
    manager.record_post_reset(None)
    first_steps = record_steps(manager, env, 4)
    manager.export_episodes()
    # the exports really are waiting in the queue while the buffers are overwritten
    assert manager.writer_statistics.episodes_queued >= 3
    env.clobber(-7.0)
    manager.record_post_reset(None)
    second_steps = record_steps(manager, env, 3)
    manager.export_episodes()
    assert manager.writer_statistics.episodes_queued >= 6
    env.clobber(-9.0)
    record_steps(manager, env, 2)  # a third, unexported episode reuses the buffers again
    env.clobber(-11.0)
    manager.close()

    path = _files(tmp_path)[0]
    assert demo_names(path) == [f"demo_{i}" for i in range(8)]
    for env_id in range(4):
        assert_demo_equals(path, f"demo_{env_id}", expected_demo(first_steps, env_id, initial_reset=1))
        assert_demo_equals(path, f"demo_{4 + env_id}", expected_demo(second_steps, env_id, initial_reset=2))


def _leaf_lists(node):
    for value in node.values():
        if isinstance(value, dict):
            yield from _leaf_lists(value)
        else:
            yield value


def _mutate_attributes(episode):
    episode.success = True
    episode.seed = 99


def _mutate_append(episode):
    episode.add("actions", torch.full((3,), 1000.0))
    episode.add("obs", {"eef_pos": torch.zeros(3)})
    for steps in _leaf_lists(episode.data):
        steps.append(steps[-1].clone())


def _mutate_replace(episode):
    for steps in _leaf_lists(episode.data):
        steps[:] = [torch.zeros_like(tensor) for tensor in steps]
    episode.data["actions"] = [torch.ones(3)]
    episode.data["extra"] = [torch.ones(1)]


def _mutate_clear(episode):
    episode.data.clear()


# An exported episode belongs to the writer: its containers and attributes are snapshotted, so appending, replacing,
# clearing or relabelling through an old handle changes nothing written. Its tensors are shared with the snapshot
# without a copy (the recorder never writes to them again; see docs/async_export.md), so writing into them in place
# through an old handle is outside the contract and not tested here.
MUTATIONS = {
    "attributes": _mutate_attributes,
    "append": _mutate_append,
    "replace": _mutate_replace,
    "clear": _mutate_clear,
}


@pytest.mark.parametrize("offload", [False, True], ids=["no_offload", "offload"])
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_mutating_an_episode_obtained_before_export_does_not_change_the_file(recorder, tmp_path, mutation, offload):
    manager, env = recorder(
        async_write=True,
        early_cpu_offload=offload,
        async_queue_size=16,
        dataset_file_handler_class_type=handler_class(delay_s=0.05),
    )
    manager.record_post_reset(None)
    steps = record_steps(manager, env, 3)
    manager.set_success_to_episodes(None, torch.zeros(4, dtype=torch.bool))
    episodes = [manager.get_episode(env_id) for env_id in range(4)]
    manager.export_episodes()
    assert manager.writer_statistics.episodes_queued >= 3
    for episode in episodes:
        MUTATIONS[mutation](episode)
    assert all(manager.get_episode(env_id) is not episodes[env_id] for env_id in range(4))
    manager.close()

    path = _files(tmp_path)[0]
    assert demo_names(path) == [f"demo_{i}" for i in range(4)]
    with h5py.File(path, "r") as file:
        assert not any(bool(file[f"data/demo_{i}"].attrs["success"]) for i in range(4))
        assert not any("seed" in file[f"data/demo_{i}"].attrs for i in range(4))
    for env_id in range(4):
        assert_demo_equals(path, f"demo_{env_id}", expected_demo(steps, env_id, initial_reset=1))


def test_tensor_added_without_clone_is_snapshotted_at_export(recorder, tmp_path):
    manager, env = recorder(async_write=True, dataset_file_handler_class_type=handler_class(delay_s=0.05))
    borrowed = torch.arange(6, dtype=torch.float32)
    steps = record_steps(manager, env, 2)
    manager.get_episode(0).add("extra", borrowed, clone=False)  # the episode keeps the caller's tensor
    manager.export_episodes()
    assert manager.writer_statistics.episodes_queued >= 3
    borrowed.fill_(-1.0)
    manager.close()
    expected = expected_demo(steps, 0)
    expected["extra"] = np.arange(6, dtype=np.float32)[None]
    assert_demo_equals(_files(tmp_path)[0], "demo_0", expected)


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("offload", [False, True], ids=["no_offload", "offload"])
@pytest.mark.parametrize("async_write", [False, True], ids=["sync", "async"])
def test_handler_gets_stacked_owned_tensors_holding_only_their_episode(
    recorder, data_env, tmp_path, device, offload, async_write
):
    handler = handler_class()
    manager, env = recorder(
        env=data_env(num_envs=4, device=device),
        async_write=async_write,
        early_cpu_offload=offload,
        dataset_file_handler_class_type=handler,
    )
    manager.record_post_reset(None)
    steps = record_steps(manager, env, 3)
    manager.record_post_reset([1, 3])  # a second initial state, from a view of only some rows
    manager.export_episodes()
    manager.flush()
    tensors = handler.instances[0].tensor_storage
    # every exported episode was handed over as one stacked tensor per key (as upstream's pre_export gives them),
    # each with its own storage of exactly its size: no other env's rows, no page of the recorder
    assert len(tensors) == 4
    for env_id, episode_tensors in enumerate(tensors):
        assert len(episode_tensors) == 6
        for shape, nbytes, storage_nbytes in episode_tensors:
            assert nbytes == storage_nbytes, (env_id, shape)
        initial_state_rows = [shape[0] for shape, _, _ in episode_tensors if shape[1:] == (4,) and shape[0] != 3]
        assert initial_state_rows == [2 if env_id in (1, 3) else 1]
    manager.close()
    path = _files(tmp_path)[0]
    for env_id in range(4):
        expected = expected_demo(steps, env_id, initial_reset=1)
        if env_id in (1, 3):
            key = "initial_state/articulation/robot/joint_position"
            expected[key] = np.stack([expected[key][0], helpers.expected_initial_state(env_id, 2)])
        assert_demo_equals(path, f"demo_{env_id}", expected)


"""
3. Back-pressure.
"""


def test_export_does_not_wait_for_the_write_while_the_queue_has_room(recorder, data_env):
    handler = handler_class(delay_s=0.25)
    manager, env = recorder(
        env=data_env(num_envs=3), async_write=True, async_queue_size=16, dataset_file_handler_class_type=handler
    )
    record_steps(manager, env, 3)
    start = time.perf_counter()
    manager.export_episodes()
    held = time.perf_counter() - start
    stats = manager.writer_statistics
    assert held < 0.2, f"export_episodes held the caller {held:.3f} s although the queue had room"
    assert stats.episodes_written == 0 and stats.episodes_queued == 3 and stats.blocked_seconds == 0.0
    # an episode is counted once the writer has written it, not when it is queued
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == 0
    manager.flush()
    assert manager.writer_statistics.episodes_written == 3
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == 3
    # the HDF5 work ran on the writer thread, not on the caller's
    assert handler.instances[0].write_threads == {WRITER_THREAD}


def test_sync_export_writes_on_the_caller_thread(recorder):
    handler = handler_class()
    manager, env = recorder(async_write=False, dataset_file_handler_class_type=handler)
    record_steps(manager, env, 1)
    manager.export_episodes()
    assert handler.instances[0].write_threads == {threading.current_thread().name}
    assert manager.writer_statistics.episodes_written == 4 and manager.writer_statistics.episodes_queued == 0


@pytest.mark.timeout(60)
def test_full_queue_blocks_the_export_and_loses_nothing(recorder, data_env, tmp_path):
    delay = 0.015
    handler = handler_class(delay_s=delay)
    manager, env = recorder(
        env=data_env(num_envs=5), async_write=True, async_queue_size=2, dataset_file_handler_class_type=handler
    )
    expected = {}
    start = time.perf_counter()
    for round_index in range(10):
        steps = record_steps(manager, env, 2)
        for env_id in range(5):
            expected[f"demo_{5 * round_index + env_id}"] = expected_demo(steps, env_id)
        manager.export_episodes()
        assert manager.writer_statistics.episodes_queued <= 2
    elapsed = time.perf_counter() - start
    stats = manager.writer_statistics
    manager.close()
    final = manager.writer_statistics

    # the caller was held back: only 2 episodes may wait, the other 48 had to wait for a slow write each
    assert stats.blocked_seconds > 0.0
    assert elapsed >= 0.8 * (50 - 2) * delay
    assert stats.peak_queue_depth == 2
    assert final.episodes_submitted == final.episodes_written == 50
    assert final.episodes_queued == 0 and final.bytes_queued == 0 and final.episodes_failed == 0
    # written in export order, under the names the sync path gives, each with its own data
    assert handler.instances[0].written_names == [f"demo_{i}" for i in range(50)]
    path = _files(tmp_path)[0]
    assert demo_names(path) == [f"demo_{i}" for i in range(50)]
    for name, arrays in expected.items():
        assert_demo_equals(path, name, arrays)


def _episode_bytes(num_steps: int, image_size: int = 8) -> int:
    """The bytes a queued episode of the test recorder is counted with: its 5 stacked tensors and their overhead."""
    return num_steps * _step_bytes(image_size) + 5 * _TENSOR_OVERHEAD_BYTES


def _step_bytes(image_size: int = 8) -> int:
    """The bytes one env records in one step of the test recorder (actions, eef_pos, an image, joints, root pose)."""
    return 3 * 4 + 3 * 4 + image_size * image_size * 3 + helpers.JOINTS * 4 + 7 * 4


@pytest.mark.timeout(60)
def test_queue_is_bounded_by_bytes(recorder, tmp_path):
    episode_bytes = _episode_bytes(3)
    max_bytes = int(2.5 * episode_bytes)
    handler = handler_class(delay_s=0.01)
    manager, env = recorder(
        async_write=True,
        async_queue_size=100,
        async_queue_max_bytes=max_bytes,
        dataset_file_handler_class_type=handler,
    )
    for _ in range(5):
        record_steps(manager, env, 3)
        assert manager.episode_memory.bytes_recorded == 4 * (episode_bytes - 5 * _TENSOR_OVERHEAD_BYTES)
        manager.export_episodes()
        assert manager.writer_statistics.bytes_queued <= max_bytes
    manager.close()
    stats = manager.writer_statistics
    assert stats.peak_queue_bytes <= max_bytes
    assert stats.peak_queue_depth == 2  # 2.5 episodes' worth of bytes: at most 2 whole episodes wait
    assert stats.blocked_seconds > 0.0
    assert stats.episodes_written == 20 and stats.bytes_written == 20 * episode_bytes
    assert demo_names(_files(tmp_path)[0]) == [f"demo_{i}" for i in range(20)]


@pytest.mark.timeout(60)
def test_episode_larger_than_the_byte_bound_is_still_accepted(recorder, tmp_path):
    handler = handler_class(delay_s=0.01)
    manager, env = recorder(
        async_write=True, async_queue_size=100, async_queue_max_bytes=64, dataset_file_handler_class_type=handler
    )
    expected = {}
    for round_index in range(3):
        steps = record_steps(manager, env, 2)
        assert manager.episode_memory.bytes_recorded > 4 * 64
        expected.update({f"demo_{4 * round_index + e}": expected_demo(steps, e) for e in range(4)})
        manager.export_episodes()
    manager.close()
    stats = manager.writer_statistics
    assert stats.peak_queue_depth == 1  # each oversized episode waits alone
    assert stats.peak_queue_bytes == _episode_bytes(2)
    assert stats.episodes_written == 12 and stats.blocked_seconds > 0.0
    for name, arrays in expected.items():
        assert_demo_equals(_files(tmp_path)[0], name, arrays)


"""
4. Writer failure.
"""


def _not_written_count(error: EpisodeWriteError) -> int:
    match = re.search(r"(\d+) episode\(s\) not written", str(error))
    assert match, f"the error does not say how many episodes were not written: {error}"
    return int(match.group(1))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("surface", ["export", "flush", "close"])
def test_writer_failure_surfaces_at_the_next_call(recorder, tmp_path, surface):
    # the failure is in the second export, and the writer is slow enough that both exports are queued before it
    fail_index = 5
    handler = handler_class(delay_s=0.03, fail_at={fail_index})
    manager, env = recorder(async_write=True, async_queue_size=16, dataset_file_handler_class_type=handler)
    exported = []  # (steps, env id) of every exported episode, in export (and write) order
    for _ in range(2):
        steps = record_steps(manager, env, 2)
        exported.extend((steps, env_id) for env_id in range(4))
        manager.export_episodes()
    assert wait_until(lambda: manager.writer_statistics.episodes_failed >= 1, timeout_s=10)
    # new episodes are being recorded when the error surfaces
    pending_steps = record_steps(manager, env, 2)

    errors = []
    if surface == "export":
        with pytest.raises(EpisodeWriteError) as info:
            manager.export_episodes()
        errors.append(info.value)
        # the export that reports the failure hands its own episodes over first: nothing more is lost
        assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
        exported.extend((pending_steps, env_id) for env_id in range(4))
    elif surface == "flush":
        with pytest.raises(EpisodeWriteError) as info:
            manager.flush()
        errors.append(info.value)
    if surface == "close":
        with pytest.raises(EpisodeWriteError) as info:
            manager.close()
        errors.append(info.value)
    else:
        manager.close()  # the failure was reported once already: closing does not raise it again
    manager.close()  # idempotent once closed

    for error in errors:
        assert isinstance(error.__cause__, OSError)
        assert "injected write failure" in str(error.__cause__)
        assert _not_written_count(error) == 1
    assert manager.writer_statistics.episodes_failed == 1
    assert manager.writer_statistics.episodes_written == len(exported) - 1
    # an episode whose write failed is not counted; every written one is
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == len(exported) - 1
    # the failed write was env 1's episode of the second export
    assert handler.instances[0].failed_env_ids == [exported[fail_index][1]] == [1]

    path = _files(tmp_path)[0]
    with h5py.File(path, "r") as file:  # closed properly: plain h5py opens it
        names = set(file["data"].keys())
        total = int(file["data"].attrs["total"])
    # the failed write published nothing and left no hole: the later episodes took the next names
    written = [item for index, item in enumerate(exported) if index != fail_index]
    assert demo_names(path) == [f"demo_{i}" for i in range(len(written))] == handler.instances[0].written_names
    for index, (steps, env_id) in enumerate(written):
        assert_demo_equals(path, f"demo_{index}", expected_demo(steps, env_id))
    # every exported episode is either in the file or counted as not written
    assert len(names) + _not_written_count(errors[-1]) == len(exported)
    assert total == 2 * len(names)


def test_sync_failed_write_leaves_no_gap_is_not_counted_and_never_stops_the_others(recorder, tmp_path):
    handler = handler_class(fail_at={1})
    manager, env = recorder(async_write=False, dataset_file_handler_class_type=handler)
    steps = record_steps(manager, env, 2)
    # the second write (env 1) fails: the export writes the other episodes, then raises, chained to the write's error
    with pytest.raises(EpisodeWriteError) as info:
        manager.export_episodes()
    assert isinstance(info.value.__cause__, OSError)
    assert "demo_1 (env 1)" in str(info.value) and "injected write failure at episode index 1" in str(info.value)
    assert _not_written_count(info.value) == 1
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == 3
    stats = manager.writer_statistics
    assert stats.episodes_written == 3 and stats.episodes_failed == 1 and stats.episodes_queued == 0
    # every env starts a new episode: the failed one is reported, not kept to fail again
    assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    later_steps = record_steps(manager, env, 2)
    manager.export_episodes()  # the failure was reported: later exports write as usual
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == 7
    manager.close()  # the failure was the caller's already: close does not raise it again
    path = _files(tmp_path)[0]
    # the failed write published nothing and left no hole: the later episodes took the next names
    assert demo_names(path) == [f"demo_{index}" for index in range(7)] == handler.instances[0].written_names
    written = [(steps, 0), (steps, 2), (steps, 3)] + [(later_steps, env_id) for env_id in range(4)]
    for index, (demo_steps, env_id) in enumerate(written):
        assert_demo_equals(path, f"demo_{index}", expected_demo(demo_steps, env_id))
    with h5py.File(path, "r") as file:
        assert file["data"].attrs["total"] == 7 * 2


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "mode", [DatasetExportMode.EXPORT_ALL, DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES]
)
def test_async_failed_write_leaves_no_gap_and_is_not_counted(recorder, tmp_path, mode):
    handler = handler_class(delay_s=0.01, fail_at={1})
    manager, env = recorder(async_write=True, dataset_export_mode=mode, dataset_file_handler_class_type=handler)
    steps = record_steps(manager, env, 2)
    manager.set_success_to_episodes(None, torch.tensor([True, True, True, False]))
    manager.export_episodes()  # all four are queued: the failure comes later, on the writer thread
    assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    with pytest.raises(EpisodeWriteError) as info:
        manager.flush()
    assert "injected write failure at episode index 1 (env 1)" in str(info.value)
    assert _not_written_count(info.value) == 1
    # the episodes written are counted, the failed one (env 1, succeeded) is not
    assert manager.exported_successful_episode_count == 2
    assert manager.exported_failed_episode_count == 1
    manager.close()  # reported once, at the flush
    main, failed = _files(tmp_path)
    assert demo_names(main) == ["demo_0", "demo_1"] + (["demo_2"] if mode == DatasetExportMode.EXPORT_ALL else [])
    for index, env_id in enumerate([0, 2, 3] if mode == DatasetExportMode.EXPORT_ALL else [0, 2]):
        assert_demo_equals(main, f"demo_{index}", expected_demo(steps, env_id))
    if mode != DatasetExportMode.EXPORT_ALL:
        assert demo_names(failed) == ["demo_0"]
        assert_demo_equals(failed, "demo_0", expected_demo(steps, 3))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("async_write", [False, True], ids=["sync", "async"])
def test_close_closes_every_file_and_raises_episode_write_error_when_one_fails_to_close(
    recorder, tmp_path, async_write
):
    handler = handler_class(delay_s=0.01 if async_write else 0.0, fail_close=True)
    manager, env = recorder(
        async_write=async_write,
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES,
        dataset_file_handler_class_type=handler,
    )
    steps = record_steps(manager, env, 2)
    manager.set_success_to_episodes(None, torch.tensor([True, False, True, False]))
    manager.export_episodes()
    with pytest.raises(EpisodeWriteError, match="Closing the dataset file .*dataset.hdf5' failed") as info:
        manager.close()
    assert isinstance(info.value.__cause__, OSError) and "injected close failure" in str(info.value.__cause__)
    manager.close()  # idempotent once closed
    with pytest.raises(RuntimeError, match="closed"):
        manager.export_episodes()
    # both files were closed although the first one failed, and everything exported was written first
    assert [instance.file_path for instance in handler.instances] == [None, None]
    main, failed = _files(tmp_path)
    for path, env_ids in ((main, [0, 2]), (failed, [1, 3])):
        with h5py.File(path, "a") as file:  # closed: plain h5py may open it for writing
            assert len(file["data"]) == 2
        for index, env_id in enumerate(env_ids):
            assert_demo_equals(path, f"demo_{index}", expected_demo(steps, env_id))
    assert manager.exported_successful_episode_count == 2 and manager.exported_failed_episode_count == 2


@pytest.mark.timeout(30)
def test_failure_while_the_caller_is_blocked_raises_instead_of_hanging(recorder, tmp_path):
    fail_from = 2
    handler = handler_class(delay_s=0.02, fail_from=fail_from)
    manager, env = recorder(async_write=True, async_queue_size=1, dataset_file_handler_class_type=handler)
    recorded = 0
    with pytest.raises(EpisodeWriteError) as info:
        for _ in range(20):
            record_steps(manager, env, 1)
            recorded += 4
            manager.export_episodes()
    assert recorded < 80, "the failure never reached the caller"
    assert isinstance(info.value.__cause__, OSError)
    # the export that raised handed its own episodes over first: none is left behind in the recorder
    assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    try:
        manager.close()  # reports the failures that came after the first report, if any
    except EpisodeWriteError as later:
        assert isinstance(later.__cause__, OSError)
    # nothing vanished: each recorded episode is in the file or counted as not written
    written = demo_names(_files(tmp_path)[0])
    assert written == [f"demo_{i}" for i in range(fail_from)]
    assert len(written) + manager.writer_statistics.episodes_failed == recorded


"""
7. Thread safety of the file handler.
"""


@pytest.mark.timeout(60)
def test_handler_calls_from_the_caller_while_the_writer_writes(recorder, tmp_path):
    handler = handler_class(delay_s=0.001)
    manager, env = recorder(async_write=True, async_queue_size=8, dataset_file_handler_class_type=handler)
    file_handler = handler.instances[0]
    seen, lagging, caller_keys = 0, 0, {}
    for iteration in range(30):
        record_steps(manager, env, 1)
        manager.export_episodes()
        for call in range(4):
            key = f"caller_{iteration}_{call}"
            file_handler.add_env_args({key: iteration})
            caller_keys[key] = iteration
            count = file_handler.get_num_episodes()
            assert count >= seen
            seen = count
            lagging += count < 4 * (iteration + 1)
            names = list(file_handler.get_episode_names())
            assert len(names) >= count
            if names:
                # any published demo is complete, even while the next one is being written
                episode = file_handler.load_episode(names[-1], "cpu")
                assert episode.data["actions"].shape == (1, 3)
                assert episode.data["obs"]["cam0"].shape == (1, 8, 8, 3)
            file_handler.flush()
    assert lagging > 0, "the writer never lagged behind: the caller's calls did not overlap a write"
    manager.close()

    path = _files(tmp_path)[0]
    assert demo_names(path) == [f"demo_{i}" for i in range(120)]
    with h5py.File(path, "r") as file:
        env_args = json.loads(file["data"].attrs["env_args"])
        assert file["data"].attrs["total"] == 120
    assert {key: env_args[key] for key in caller_keys} == caller_keys
    assert env_args["env_name"] == helpers.ENV_NAME and "sim_args" in env_args


"""
8. Early CPU offload.
"""


def _storage_range(tensor: torch.Tensor) -> tuple[int, int]:
    storage = tensor.untyped_storage()
    return storage.data_ptr(), storage.data_ptr() + storage.nbytes()


def _shares_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.device != b.device:
        return False
    (a0, a1), (b0, b1) = _storage_range(a), _storage_range(b)
    return a0 < b1 and b0 < a1


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("offload", [False, True], ids=["no_offload", "offload"])
def test_stored_tensors_never_share_storage_with_the_source(recorder, data_env, device, offload):
    manager, env = recorder(env=data_env(num_envs=4, device=device), early_cpu_offload=offload)
    manager.record_post_reset(None)
    steps = record_steps(manager, env, 2)
    sources = env.source_tensors()
    stored = [
        tensor for env_id in range(4) for steps_ in _leaf_lists(manager.get_episode(env_id).data) for tensor in steps_
    ]
    assert len(stored) == 4 * (5 * 2 + 1)
    for tensor in stored:
        assert tensor.device.type == ("cpu" if offload else torch.device(device).type)
        assert not any(_shares_storage(tensor, source) for source in sources)
    env.clobber()
    for env_id in range(4):
        episode = manager.get_episode(env_id)
        np.testing.assert_array_equal(
            torch.stack(episode.data["actions"]).cpu().numpy(), expected_demo(steps, env_id)["actions"]
        )


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("offload", [False, True], ids=["no_offload", "offload"])
def test_offload_keeps_every_recorded_step_in_cpu_memory(recorder, data_env, device, offload):
    manager, env = recorder(env=data_env(num_envs=4, device=device), early_cpu_offload=offload, async_write=True)
    expected_device = "cpu" if offload else torch.device(device).type
    for _ in range(2):
        record_steps(manager, env, 2)
        manager.reset([1, 3])
        manager.export_episodes([0, 2])
        steps = record_steps(manager, env, 3)
        for env_id in range(4):
            actions = manager.get_episode(env_id).data["actions"]
            assert len(actions) == 3 and all(step.device.type == expected_device for step in actions)
            np.testing.assert_array_equal(torch.stack(actions).cpu().numpy(), expected_demo(steps, env_id)["actions"])
        manager.record_pre_reset(None, force_export_or_skip=True)
    manager.close()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available: device memory cannot be measured")
def test_device_memory_held_by_the_recorder_stays_flat_with_offload(tmp_path, data_env):
    image_size = 64
    step_bytes = 4 * _step_bytes(image_size)
    growth = {}
    for offload in (True, False):
        env = data_env(num_envs=4, device="cuda", image_size=image_size)
        manager, env = helpers.make_recorder(
            tmp_path / str(offload),
            env=env,
            early_cpu_offload=offload,
            async_write=True,
            dataset_export_mode=DatasetExportMode.EXPORT_NONE,
        )
        record_steps(manager, env, 5)
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        record_steps(manager, env, 40)
        torch.cuda.synchronize()
        growth[offload] = torch.cuda.memory_allocated() - before
        manager.close()
        del manager, env
        torch.cuda.empty_cache()
    assert growth[True] <= step_bytes, f"with offload the recorder held {growth[True]} more device bytes"
    assert growth[False] >= 30 * step_bytes, f"without offload the recorder grew by only {growth[False]} bytes"


class UpstreamStyleHandler(DatasetFileHandlerBase):
    """A handler written against Isaac Lab 3.0's base class, in memory: its abstract methods and ``add_env_args``
    (which Isaac Lab's recorder calls too), no name reservations."""

    episodes: list[tuple[str, dict, bool | None]]
    env_args: dict

    def create(self, file_path, env_name=None):
        type(self).episodes = []
        type(self).env_args = {"env_name": env_name}

    def add_env_args(self, env_args):
        type(self).env_args.update(env_args)

    def open(self, file_path, mode="r"):
        raise NotImplementedError

    def get_env_name(self):
        return None

    def write_episode(self, episode, demo_id=None, dataset_compression=True):
        leaves = dict(_flat_leaves(episode.data))
        type(self).episodes.append(
            (f"demo_{len(type(self).episodes) if demo_id is None else demo_id}", leaves, episode.success)
        )

    def flush(self):
        pass

    def close(self):
        pass

    def load_episode(self, episode_name):
        return None

    def get_num_episodes(self):
        return len(type(self).episodes)


def _flat_leaves(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _flat_leaves(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize("async_write", [False, True], ids=["sync", "async"])
def test_a_handler_written_against_upstreams_base_class_gets_stacked_tensors(recorder, async_write):
    handler = type("Handler", (UpstreamStyleHandler,), {})
    manager, env = recorder(async_write=async_write, dataset_file_handler_class_type=handler)
    manager.record_post_reset(None)
    steps = record_steps(manager, env, 3)
    manager.set_success_to_episodes(None, torch.tensor([True, False, True, False]))
    manager.export_episodes()
    manager.close()
    assert [name for name, _, _ in handler.episodes] == ["demo_0", "demo_1", "demo_2", "demo_3"]
    assert handler.env_args["sim_args"]["num_envs"] == 4
    for env_id, (_, leaves, success) in enumerate(handler.episodes):
        assert success == (env_id % 2 == 0)
        expected = expected_demo(steps, env_id, initial_reset=1)
        assert sorted(leaves) == sorted(expected)
        for key, value in leaves.items():
            # what Isaac Lab's pre_export() gives a handler: one stacked tensor per key, never a list of steps
            assert isinstance(value, torch.Tensor), key
            np.testing.assert_array_equal(value.numpy(), expected[key])
