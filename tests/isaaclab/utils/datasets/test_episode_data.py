"""Tests of EpisodeData: list semantics, getters, stacking, offload and snapshots."""

import re

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
    episode = EpisodeData()
    with pytest.raises(TypeError, match="'obs/gripper'.*float"):
        episode.add("obs", {"eef_pos": torch.zeros(3), "gripper": 0.5})
    assert episode.is_empty() and episode.nbytes == 0  # the valid leaf was not added either


def test_add_rejects_dtypes_a_file_cannot_store_and_records_nothing():
    episode = EpisodeData()
    episode.env_id = 3
    with pytest.raises(TypeError, match=r"'obs/half' of env 3 has dtype torch\.bfloat16"):
        episode.add("obs", {"ok": torch.zeros(2), "half": torch.zeros(2, dtype=torch.bfloat16)})
    assert episode.is_empty() and episode.nbytes == 0


def test_add_rejects_a_shape_change_naming_key_env_and_both_shapes():
    episode = EpisodeData()
    episode.env_id = 2
    episode.add("obs", {"a": torch.zeros(2), "b": torch.zeros(3)})
    message = re.escape(
        "Recorded value for key 'obs/b' of env 2 has shape (4,) and dtype torch.float32, but earlier steps have"
        " shape (3,) and dtype torch.float32."
    )
    with pytest.raises(ValueError, match=message):
        episode.add("obs", {"a": torch.ones(2), "b": torch.zeros(4)})
    # nothing of the rejected step was recorded, not even its valid leaf
    assert len(episode.data["obs"]["a"]) == 1 and len(episode.data["obs"]["b"]) == 1
    assert episode.nbytes == 5 * 4


def test_add_rejects_a_dtype_change_and_names_no_env_without_one():
    episode = EpisodeData()
    episode.add("actions", torch.zeros(2))
    with pytest.raises(
        ValueError, match=r"'actions' has shape \(2,\) and dtype torch\.float64.*torch\.float32"
    ) as info:
        episode.add("actions", torch.zeros(2, dtype=torch.float64))
    assert " env " not in str(info.value)
    assert len(episode.data["actions"]) == 1


def test_add_rejects_a_key_used_both_as_tensor_and_as_group():
    episode = EpisodeData()
    episode.env_id = 0
    episode.add("obs/pos", torch.zeros(3))
    with pytest.raises(ValueError, match="'obs' of env 0 as a tensor: it is already recorded as a group"):
        episode.add("obs", torch.zeros(3))
    with pytest.raises(ValueError, match="'obs/pos/x' of env 0.*'obs/pos' is already recorded as a tensor"):
        episode.add("obs", {"pos": {"x": torch.zeros(1)}})
    assert list(episode.data) == ["obs"] and list(episode.data["obs"]) == ["pos"]
    assert len(episode.data["obs"]["pos"]) == 1


def test_check_append_checks_without_appending():
    episode = EpisodeData()
    episode.check_append("new/key", torch.zeros(5))  # any tensor may start a key
    assert episode.is_empty()
    episode.add("x", torch.zeros(2))
    episode.check_append("x", torch.ones(2))
    assert len(episode.data["x"]) == 1
    with pytest.raises(ValueError, match=r"'x'.*\(3,\).*\(2,\)"):
        episode.check_append("x", torch.zeros(3))
    with pytest.raises(TypeError, match="bfloat16"):
        episode.check_append("y", torch.zeros(1, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="'y'"):
        episode.check_append("y", 1.0)
    assert list(episode.data) == ["x"] and len(episode.data["x"]) == 1


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
    # each tensor keeps a leading dimension of one (upstream's keep_dim)
    assert state["articulation"]["robot"]["joint_position"].shape == (1, 4)
    assert torch.equal(state["articulation"]["robot"]["joint_position"], torch.full((1, 4), 1.0))
    assert episode.get_state(2) is None
    first, second = episode.get_next_state(), episode.get_next_state()
    assert torch.equal(first["articulation"]["robot"]["joint_position"], torch.full((1, 4), 0.0))
    assert torch.equal(second["articulation"]["robot"]["joint_position"], torch.full((1, 4), 1.0))
    assert episode.get_next_state() is None and episode.next_state_index == 2


def test_state_getters_keep_dim_on_stacked_states():
    episode = EpisodeData()
    for step in range(3):
        episode.add("states", {"rigid_object": {"cube": {"root_pose": torch.full((7,), float(step))}}})
    episode.pre_export()
    state = episode.get_state(2)
    assert state["rigid_object"]["cube"]["root_pose"].shape == (1, 7)
    assert torch.equal(state["rigid_object"]["cube"]["root_pose"], torch.full((1, 7), 2.0))
    assert episode.get_state(3) is None


def test_index_setters_move_the_next_action_and_state():
    episode = EpisodeData()
    for step in range(3):
        episode.add("actions", torch.full((2,), float(step)))
        episode.add("states", {"x": torch.full((3,), float(step))})
    episode.next_action_index = 2
    episode.next_state_index = 1
    assert (episode.next_action_index, episode.next_state_index) == (2, 1)
    assert torch.equal(episode.get_next_action(), torch.full((2,), 2.0))
    assert episode.get_next_action() is None and episode.next_action_index == 3
    assert torch.equal(episode.get_next_state()["x"], torch.full((1, 3), 1.0))
    assert episode.next_state_index == 2
    episode.next_action_index = 0
    assert torch.equal(episode.get_next_action(), torch.zeros(2))


def test_joint_target_getters_walk_the_joint_targets_without_a_leading_dim():
    episode = EpisodeData()
    assert episode.get_joint_target(0) is None and episode.get_next_joint_target() is None
    for step in range(2):
        episode.add("joint_targets", {"robot": {"joint_pos_target": torch.full((4,), float(step))}})
    target = episode.get_joint_target(1)
    assert target["robot"]["joint_pos_target"].shape == (4,)
    assert torch.equal(target["robot"]["joint_pos_target"], torch.full((4,), 1.0))
    assert episode.get_joint_target(2) is None
    walked = [episode.get_next_joint_target()["robot"]["joint_pos_target"][0].item() for _ in range(2)]
    assert walked == [0.0, 1.0]
    assert episode.get_next_joint_target() is None
    # a plain tensor of joint targets is indexed too
    flat = EpisodeData()
    flat.add("joint_targets", torch.arange(3.0))
    flat.add("joint_targets", torch.arange(3.0) + 10)
    flat.pre_export()
    assert torch.equal(flat.get_joint_target(1), torch.arange(3.0) + 10)


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
