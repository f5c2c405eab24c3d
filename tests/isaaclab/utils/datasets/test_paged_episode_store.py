# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Tests of the paged episode store: steps of any env ids land in order, checks come before any copy, pages are
reused, and the episodes handed out own their memory."""

import numpy as np
import pytest
import torch

from isaaclab.utils.datasets import EpisodeData, PagedEpisode, PagedEpisodeStore
from isaaclab.utils.datasets.paged_episode_store import MAX_PAGE_STEPS, PAGE_BYTES

pytestmark = pytest.mark.unit

DTYPES = [torch.float32, torch.float16, torch.float64, torch.int64, torch.uint8, torch.bool, torch.complex64]


def _batch(rows: int, shape: tuple[int, ...], dtype: torch.dtype, generator: torch.Generator) -> torch.Tensor:
    values = torch.randn((rows, *shape), generator=generator) * 50
    if dtype == torch.bool:
        return values > 0
    if dtype == torch.complex64:
        return torch.complex(values, -values)
    return values.to(dtype)


def _record(store: PagedEpisodeStore, key: str, batch: torch.Tensor, env_ids) -> None:
    env_ids = np.asarray(env_ids, dtype=np.int64)
    store.check([(key, batch)], env_ids)
    store.add(key, batch, env_ids)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (3,), (9, 9, 3)], ids=["scalar_rows", "small_rows", "frame_rows"])
def test_staggered_steps_of_any_env_ids_come_back_in_order(dtype, shape):
    num_envs = 5
    store = PagedEpisodeStore(num_envs, "cpu")
    generator = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(1)
    expected: dict[int, list[torch.Tensor]] = {env_id: [] for env_id in range(num_envs)}
    for step in range(150):
        env_ids = np.sort(rng.choice(num_envs, size=rng.integers(1, num_envs + 1), replace=False))
        batch = _batch(len(env_ids), shape, dtype, generator)
        _record(store, "obs/x", batch, env_ids)
        for row, env_id in enumerate(env_ids):
            expected[int(env_id)].append(batch[row].clone())
        if step % 31 == 30:
            # one env's episode ends: its steps come back as one owned tensor, and it starts again
            env_id = int(env_ids[0])
            taken = store.take(env_id)["obs/x"]
            assert taken.dtype == dtype and taken.shape == (len(expected[env_id]), *shape)
            assert torch.equal(taken, torch.stack(expected[env_id]))
            store.release([env_id])
            expected[env_id] = []
    for env_id, steps in expected.items():
        if steps:
            assert torch.equal(store.take(env_id)["obs/x"], torch.stack(steps))
        else:
            assert not store.has_steps(env_id)


def test_check_refuses_bad_batches_naming_key_envs_and_shapes():
    store = PagedEpisodeStore(4, "cpu")
    _record(store, "obs/pos", torch.zeros(4, 3), [0, 1, 2, 3])
    ids = np.array([1, 2], dtype=np.int64)
    cases = [
        ([("obs/pos", torch.zeros(2, 5))], ValueError, r"'obs/pos' of envs \[1, 2\] has row shape \(5,\)"),
        ([("obs/pos", torch.zeros(2, 3, dtype=torch.float64))], ValueError, r"dtype torch.float64, but the steps"),
        ([("obs/pos", torch.zeros(3, 3))], ValueError, r"expected leading dimension 2, got shape \(3, 3\)"),
        ([("obs/half", torch.zeros(2, 3, dtype=torch.bfloat16))], TypeError, "bfloat16, which a dataset file"),
        ([("obs/list", [0.0, 1.0])], TypeError, "'obs/list' of envs .* must be a torch.Tensor"),
        ([("obs/sparse", torch.zeros(2, 3).to_sparse())], TypeError, "sparse_coo tensor; record a dense tensor"),
        ([("obs", torch.zeros(2, 1))], ValueError, "'obs' as a tensor: it is also a group of keys"),
        ([("obs/pos/x", torch.zeros(2, 1))], ValueError, "'obs/pos' is recorded as a tensor, not a group"),
        ([("a", torch.zeros(2, 1)), ("a/b", torch.zeros(2, 1))], ValueError, "'a' as a tensor: it is also a group"),
    ]
    for bad_key in ["obs//x", "/obs/x", "obs/", ".", "", "obs/../x"]:
        cases.append(([(bad_key, torch.zeros(2, 1))], ValueError, "an empty, '.' or '..' part"))
    for leaves, error, message in cases:
        with pytest.raises(error, match=message):
            store.check(leaves, ids)
    # nothing was recorded by the refused batches
    assert [store.take(env_id)["obs/pos"].shape for env_id in range(4)] == [(1, 3)] * 4
    assert store.statistics.keys == 1


def test_pages_are_reused_and_memory_in_use_is_the_steps_plus_one_page_per_env_and_key():
    num_envs, steps = 8, 100
    store = PagedEpisodeStore(num_envs, "cpu")
    row_bytes = {"state": 7 * 4, "frame": 32 * 32 * 3}
    batches = {"state": torch.zeros(num_envs, 7), "frame": torch.zeros(num_envs, 32, 32, 3, dtype=torch.uint8)}
    held = []
    for _ in range(3):
        for step in range(steps):
            for key, batch in batches.items():
                _record(store, key, batch, np.arange(num_envs))
            stats = store.statistics
            assert stats.bytes_recorded == (step + 1) * num_envs * sum(row_bytes.values())
            # in use: the steps, plus at most the unfilled end of one page per env and key
            page_bytes = {key: _page_steps(size) * size for key, size in row_bytes.items()}
            assert (
                stats.bytes_recorded <= stats.bytes_in_use <= stats.bytes_recorded + num_envs * sum(page_bytes.values())
            )
        for env_id in range(num_envs):
            store.take(env_id)
        store.release(range(num_envs))
        assert store.statistics.pages_in_use == 0
        held.append(store.statistics.pages_held)
    # the pages of the first episodes are reused by the next ones: the pools stop growing
    assert held[0] == held[1] == held[2]


def _page_steps(row_bytes: int) -> int:
    steps = max(1, min(MAX_PAGE_STEPS, PAGE_BYTES // row_bytes))
    return 1 << (steps.bit_length() - 1)


def test_a_key_may_change_shape_only_once_no_episode_holds_steps_of_it():
    store = PagedEpisodeStore(2, "cpu")
    episode = PagedEpisode(store, 0)
    _record(store, "x", torch.zeros(2, 3), [0, 1])
    store.release([1])
    assert len(episode.data["x"]) == 1  # env 0's step now lives in its episode, outside the pages
    with pytest.raises(ValueError, match=r"steps recorded so far \(envs \[0\]\)"):
        store.check([("x", torch.zeros(1, 4))], np.array([1]))
    store.release([0])
    _record(store, "x", torch.zeros(2, 4), [0, 1])
    assert store.take(1)["x"].shape == (1, 4)


def test_paged_episode_reads_like_episode_data_and_keeps_the_order_of_every_step():
    store = PagedEpisodeStore(3, "cpu")
    episode = PagedEpisode(store, 1)
    assert episode.is_empty() and episode.env_id == 1
    for step in range(3):
        _record(store, "actions", torch.full((3, 2), float(step)), [0, 1, 2])
    assert not episode.is_empty()
    # upstream's EpisodeData API sees every step recorded so far, as per-step tensors
    assert [action[0].item() for action in episode.data["actions"]] == [0.0, 1.0, 2.0]
    assert torch.equal(episode.get_next_action(), torch.zeros(2))
    episode.add("actions", torch.full((2,), 10.0))  # added directly, after the steps in the pages
    _record(store, "actions", torch.full((3, 2), 3.0), [0, 1, 2])
    episode.add("obs/extra", torch.ones(1))
    episode.seed = 5
    episode.success = True
    snapshot = episode.snapshot()
    assert type(snapshot) is EpisodeData
    assert snapshot.data["actions"][:, 0].tolist() == [0.0, 1.0, 2.0, 10.0, 3.0]
    assert snapshot.data["obs"]["extra"].shape == (1, 1)
    assert (snapshot.seed, snapshot.success, snapshot.env_id) == (5, True, 1)
    # the other envs' steps stay in the pages
    assert store.take(2)["actions"].shape == (4, 2)


def test_setting_data_replaces_every_step_and_snapshots_own_their_memory():
    store = PagedEpisodeStore(2, "cpu")
    episode = PagedEpisode(store, 0)
    source = torch.arange(4.0).reshape(2, 2)
    _record(store, "a", source, [0, 1])
    borrowed = torch.ones(3)
    episode.data = {"b": [borrowed]}
    assert not store.has_steps(0) and list(episode.data) == ["b"]
    _record(store, "a", source, [0, 1])
    snapshot = episode.snapshot()
    for tensor in (snapshot.data["a"], snapshot.data["b"]):
        for other in (source, borrowed):
            assert tensor.untyped_storage().data_ptr() != other.untyped_storage().data_ptr()
    source.fill_(-1.0)
    borrowed.fill_(-1.0)
    _record(store, "a", source, [0, 1])  # the pages are written again
    assert snapshot.data["a"].tolist() == [[0.0, 1.0]] and snapshot.data["b"].tolist() == [[1.0, 1.0, 1.0]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_offloaded_pages_live_in_cpu_memory_while_batches_come_from_the_gpu():
    store = PagedEpisodeStore(4, "cpu", pin_memory=True)
    batches = [torch.full((4, 64, 64, 3), step, dtype=torch.uint8, device="cuda") for step in range(40)]
    for batch in batches:
        _record(store, "obs/cam", batch, [0, 1, 2, 3])
        batch.fill_(255)  # the simulator overwrites its buffer right after the step
    taken = store.take(2)["obs/cam"]
    assert taken.device.type == "cpu"
    assert taken[:, 0, 0, 0].tolist() == list(range(40))
