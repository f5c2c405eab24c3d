"""Tests for the source demo pool: loading annotated demos and splitting them into subtask segments."""

from __future__ import annotations

import asyncio

import pytest
import torch

from isaaclab.envs.mimic_env_cfg import SubTaskConfig
from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

from isaaclab_mimic.datagen.datagen_info_pool import DataGenInfoPool, find_first_rising_edge, parse_subtask_boundaries


def signal(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_first_rising_edge():
    assert find_first_rising_edge(signal(0, 0, 1, 1, 0, 1)) == 2
    # a signal that starts high rises at step 0; bool and (T, 1) signals work too
    assert find_first_rising_edge(signal(1, 1, 0)) == 0
    assert find_first_rising_edge(torch.tensor([[False], [False], [True]])) == 2
    assert find_first_rising_edge(signal(0, 0, 0)) is None
    # a fall is not a rise
    assert find_first_rising_edge(signal(1, 0, 0, 1)) == 0


def test_segments_end_one_step_after_the_edge_and_last_ends_at_episode_end():
    signals = {"grasp": signal(0, 0, 1, 1, 0, 0, 0, 0, 0, 0), "stack": signal(0, 0, 0, 0, 0, 1, 1, 0, 0, 0)}
    boundaries = parse_subtask_boundaries(signals, ["grasp", "stack", None], num_steps=10)
    assert boundaries == [(0, 3), (3, 6), (6, 10)]
    # the last subtask ends at the episode end even when it names a signal
    assert parse_subtask_boundaries(signals, ["grasp", "stack"], num_steps=10) == [(0, 3), (3, 10)]


def test_segmentation_errors():
    signals = {"grasp": signal(0, 0, 0, 1), "stack": signal(0, 1, 1, 1), "never": signal(0, 0, 0, 0)}
    with pytest.raises(ValueError, match="missing|not in the demo"):
        parse_subtask_boundaries(signals, ["nope", None], num_steps=4)
    with pytest.raises(ValueError, match="never goes from 0 to 1"):
        parse_subtask_boundaries(signals, ["never", None], num_steps=4)
    # stack rises before grasp: the second segment would be empty / go backwards
    with pytest.raises(ValueError, match="must rise in subtask order"):
        parse_subtask_boundaries(signals, ["grasp", "stack", None], num_steps=4)


def make_pool(env) -> DataGenInfoPool:
    return DataGenInfoPool(env, env.cfg, "cpu")


def test_add_episodes_in_memory_builds_infos_and_boundaries(fakes):
    env = fakes.FakeMimicEnv()
    episodes = fakes.make_source_episodes(2)
    pool = make_pool(env)
    for episode in episodes:
        asyncio.run(pool.add_episode(episode))
    assert pool.num_datagen_infos == 2
    grasp = episodes[0].data["obs"]["datagen_info"]["subtask_term_signals"]["grasp"]
    edge = int(torch.nonzero(grasp)[0, 0])
    num_steps = len(episodes[0].data["actions"])
    assert pool.subtask_boundaries["gripper"][0] == [(0, edge + 1), (edge + 1, num_steps)]
    info = pool.datagen_infos[0]
    assert info.num_steps == num_steps
    # gripper actions come from the env's conversion of the actions
    torch.testing.assert_close(info.gripper_action["gripper"], episodes[0].data["actions"][:, 6:7])
    assert set(info.object_poses) == {"cube", "goal"}


def test_add_episode_with_asyncio_lock(fakes):
    env = fakes.FakeMimicEnv()
    pool = DataGenInfoPool(env, env.cfg, "cpu", asyncio_lock=asyncio.Lock())

    async def add_all(episodes):
        await asyncio.gather(*(pool.add_episode(episode) for episode in episodes))

    asyncio.run(add_all(fakes.make_source_episodes(3)))
    assert pool.num_datagen_infos == 3
    assert len(pool.subtask_boundaries["gripper"]) == 3


def write_dataset(path, episodes) -> str:
    handler = HDF5DatasetFileHandler()
    handler.create(str(path), env_name="Fake-Mimic-v0")
    for episode in episodes:
        handler.write_episode(episode)
    handler.close()
    return str(path) + ".hdf5"


def test_load_from_dataset_file_and_select_keys(tmp_path, fakes):
    episodes = fakes.make_source_episodes(3)
    file_path = write_dataset(tmp_path / "source", episodes)
    env = fakes.FakeMimicEnv()
    pool = make_pool(env)
    pool.load_from_dataset_file(file_path)
    assert pool.num_datagen_infos == 3
    torch.testing.assert_close(
        pool.datagen_infos[1].target_eef_pose["gripper"],
        episodes[1].data["obs"]["datagen_info"]["target_eef_pose"]["gripper"],
    )
    selected = make_pool(env)
    selected.load_from_dataset_file(file_path, select_demo_keys=["demo_2"])
    assert selected.num_datagen_infos == 1
    torch.testing.assert_close(selected.datagen_infos[0].eef_pose["gripper"], pool.datagen_infos[2].eef_pose["gripper"])


def test_unannotated_demo_is_rejected_with_its_name(tmp_path, fakes):
    episode = EpisodeData()
    episode.data = {"actions": torch.zeros(5, 7), "obs": {"eef_pos": torch.zeros(5, 3)}}
    file_path = write_dataset(tmp_path / "raw", [episode])
    pool = make_pool(fakes.FakeMimicEnv())
    with pytest.raises(ValueError, match="demo_0.*datagen_info"):
        pool.load_from_dataset_file(file_path)


def test_offset_ranges_that_could_empty_a_subtask_are_rejected(fakes):
    env = fakes.FakeMimicEnv()
    cfg = fakes.make_mimic_cfg()
    episode = fakes.make_source_episodes(1)[0]
    num_steps = len(episode.data["actions"])
    cfg.subtask_configs["gripper"][0] = SubTaskConfig(
        object_ref="cube", subtask_term_signal="grasp", subtask_term_offset_range=(0, num_steps)
    )
    pool = DataGenInfoPool(env, cfg, "cpu")
    with pytest.raises(ValueError, match="can become empty"):
        asyncio.run(pool.add_episode(episode))
    assert pool.num_datagen_infos == 0
