"""Tests of EpisodeData: list semantics, getters, stacking, offload and snapshots."""

import pytest
import torch

from isaaclab.utils.datasets import EpisodeData


def test_new_episode_is_empty_with_upstream_defaults():
    episode = EpisodeData()
    assert episode.is_empty()
    assert episode.data == {}
    assert (episode.seed, episode.env_id, episode.success) == (None, None, None)
    assert (episode.next_action_index, episode.next_state_index) == (0, 0)
    assert episode.get_action(0) is None and episode.get_state(0) is None and episode.get_initial_state() is None


def test_add_builds_nested_lists_from_slash_keys_and_dicts():
    episode = EpisodeData()
    episode.add("obs/eef_pos", torch.zeros(3))
    episode.add("obs", {"eef_pos": torch.ones(3), "joint": {"pos": torch.ones(2)}})
    assert not episode.is_empty()
    assert isinstance(episode.data["obs"]["eef_pos"], list)
    assert len(episode.data["obs"]["eef_pos"]) == 2
    assert torch.equal(episode.data["obs"]["eef_pos"][1], torch.ones(3))
    assert len(episode.data["obs"]["joint"]["pos"]) == 1


def test_add_clones_by_default_and_borrows_without_clone():
    source = torch.zeros(3)
    episode = EpisodeData()
    episode.add("cloned", source)
    episode.add("borrowed", source, clone=False)
    source.fill_(7.0)
    assert torch.equal(episode.data["cloned"][0], torch.zeros(3))
    assert episode.data["borrowed"][0] is source


def test_add_rejects_values_that_are_not_tensors():
    with pytest.raises(TypeError, match="'actions'.*list"):
        EpisodeData().add("actions", [1.0, 2.0])


def test_action_getters_walk_the_actions():
    episode = EpisodeData()
    for step in range(3):
        episode.add("actions", torch.full((2,), float(step)))
    assert torch.equal(episode.get_action(1), torch.full((2,), 1.0))
    assert episode.get_action(3) is None
    assert [episode.get_next_action()[0].item() for _ in range(3)] == [0.0, 1.0, 2.0]
    assert episode.get_next_action() is None
    assert episode.next_action_index == 3


def test_state_getters_return_nested_states_per_step():
    episode = EpisodeData()
    for step in range(2):
        episode.add("states", {"articulation": {"robot": {"joint_position": torch.full((4,), float(step))}}})
    state = episode.get_state(1)
    assert torch.equal(state["articulation"]["robot"]["joint_position"], torch.full((4,), 1.0))
    assert episode.get_state(2) is None
    assert episode.get_next_state() is not None and episode.get_next_state() is not None
    assert episode.get_next_state() is None and episode.next_state_index == 2


def test_initial_state_and_pre_export_stacks_every_list():
    episode = EpisodeData()
    episode.add("initial_state", {"rigid_object": {"cube": {"root_pose": torch.zeros(7)}}})
    for _ in range(4):
        episode.add("actions", torch.zeros(7))
    assert isinstance(episode.get_initial_state()["rigid_object"]["cube"]["root_pose"], list)
    episode.pre_export()
    assert episode.data["actions"].shape == (4, 7)
    assert episode.get_initial_state()["rigid_object"]["cube"]["root_pose"].shape == (1, 7)


def test_nbytes_counts_appended_tensors():
    episode = EpisodeData()
    episode.add("a", torch.zeros(10, dtype=torch.float32))
    episode.add("b", torch.zeros(3, dtype=torch.uint8))
    assert episode.nbytes == 43


def test_early_cpu_offload_copies_even_cpu_tensors():
    source = torch.arange(4.0)
    episode = EpisodeData(early_cpu_offload=True)
    episode.add("x", source, clone=False)
    stored = episode.data["x"][0]
    assert stored.device.type == "cpu"
    assert stored.untyped_storage().data_ptr() != source.untyped_storage().data_ptr()
    source.zero_()
    assert torch.equal(stored, torch.arange(4.0))


def test_snapshot_shares_no_container_and_survives_new_appends():
    episode = EpisodeData()
    episode.seed, episode.success, episode.env_id = 3, True, 1
    episode.add("actions", torch.zeros(2))
    snapshot = episode.snapshot()
    episode.add("actions", torch.ones(2))
    episode.data["actions"][0].fill_(5.0)  # the live episode's own copy; the snapshot was taken before
    assert len(snapshot.data["actions"]) == 1
    assert snapshot.data is not episode.data and snapshot.data["actions"] is not episode.data["actions"]
    assert (snapshot.seed, snapshot.success, snapshot.env_id) == (3, True, 1)


def test_snapshot_clones_borrowed_tensors():
    source = torch.zeros(2)
    episode = EpisodeData()
    episode.add("x", source, clone=False)
    snapshot = episode.snapshot()
    source.fill_(9.0)
    assert torch.equal(snapshot.data["x"][0], torch.zeros(2))
