"""Tests of EpisodeData, which the patch keeps as Isaac Lab has it: list semantics, getters, stacking."""

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


def test_action_getters_walk_the_actions():
    episode = EpisodeData()
    for step in range(3):
        episode.add("actions", torch.full((2,), float(step)))
    assert torch.equal(episode.get_action(1), torch.full((2,), 1.0))
    assert episode.get_action(3) is None
    assert [episode.get_next_action()[0].item() for _ in range(3)] == [0.0, 1.0, 2.0]
    assert episode.get_next_action() is None
    assert episode.next_action_index == 3


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
    episode.pre_export()  # states are indexed on stacked tensors, as loaded from a file
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
    episode.pre_export()
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
