# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Tests of the HDF5 dataset file handler: create, open, env_args, write, load, names, errors."""

import json
import os

import h5py
import numpy as np
import pytest
import torch

from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler
from isaaclab.utils.datasets.hdf5_dataset_file_handler import DATASET_FORMAT_VERSION

pytestmark = pytest.mark.unit


def make_episode(num_steps: int = 5, seed: int | None = 7, success: bool | None = True) -> EpisodeData:
    episode = EpisodeData()
    episode.seed, episode.success = seed, success
    episode.add("initial_state", {"articulation": {"robot": {"joint_position": torch.zeros(9)}}})
    for step in range(num_steps):
        episode.add("actions", torch.full((7,), float(step)))
        episode.add("obs", {"eef_pos": torch.rand(3), "table_cam": torch.randint(0, 255, (8, 8, 3), dtype=torch.uint8)})
        episode.add("states", {"rigid_object": {"cube_1": {"root_pose": torch.rand(7)}}})
    return episode


@pytest.fixture
def handler(tmp_path):
    handler = HDF5DatasetFileHandler()
    handler.create(str(tmp_path / "dataset"), env_name="Isaac-Test-v0")
    yield handler
    handler.close()


def test_create_appends_extension_and_writes_layout(tmp_path, handler):
    handler.flush()
    path = tmp_path / "dataset.hdf5"
    assert handler.file_path == str(path)
    with h5py.File(path, "r") as file:
        assert file.attrs["format_version"] == DATASET_FORMAT_VERSION == 1
        assert file["data"].attrs["total"] == 0
        assert json.loads(file["data"].attrs["env_args"]) == {"env_name": "Isaac-Test-v0", "type": 2}


def test_create_makes_parent_dirs_and_accepts_bare_names(tmp_path, monkeypatch):
    nested = HDF5DatasetFileHandler()
    nested.create(str(tmp_path / "a" / "b" / "data.hdf5"))
    nested.close()
    assert (tmp_path / "a" / "b" / "data.hdf5").is_file()
    monkeypatch.chdir(tmp_path)
    bare = HDF5DatasetFileHandler()
    bare.create("bare")
    bare.close()
    assert (tmp_path / "bare.hdf5").is_file()


def test_create_on_a_directory_and_twice_are_errors(tmp_path, handler):
    (tmp_path / "folder.hdf5").mkdir()
    with pytest.raises(IsADirectoryError, match="folder.hdf5"):
        HDF5DatasetFileHandler().create(str(tmp_path / "folder.hdf5"))
    with pytest.raises(RuntimeError, match="already in use"):
        handler.create(str(tmp_path / "other"))
    with pytest.raises(RuntimeError, match="already in use"):
        handler.open(str(tmp_path / "dataset.hdf5"))
    # the handler still has its own file, and nothing else was created
    assert handler.file_path == str(tmp_path / "dataset.hdf5")
    assert not (tmp_path / "other.hdf5").exists()


def test_write_episode_layout_and_attrs(tmp_path, handler):
    handler.write_episode(make_episode(5, seed=11, success=True))
    handler.write_episode(make_episode(3, seed=None, success=False), dataset_compression=False)
    handler.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        data = file["data"]
        assert sorted(data.keys()) == ["demo_0", "demo_1"]
        assert data.attrs["total"] == 8
        demo = data["demo_0"]
        assert demo.attrs["num_samples"] == 5 and demo.attrs["seed"] == 11 and bool(demo.attrs["success"])
        assert "seed" not in data["demo_1"].attrs and not bool(data["demo_1"].attrs["success"])
        assert demo["actions"].shape == (5, 7) and demo["actions"].dtype == np.float32
        assert demo["obs/table_cam"].shape == (5, 8, 8, 3) and demo["obs/table_cam"].dtype == np.uint8
        assert demo["states/rigid_object/cube_1/root_pose"].shape == (5, 7)
        assert demo["initial_state/articulation/robot/joint_position"].shape == (1, 9)
        assert demo["actions"].compression == "gzip" and demo["actions"].compression_opts == 2
        assert data["demo_1/actions"].compression is None
        np.testing.assert_array_equal(demo["actions"][:, 0], np.arange(5, dtype=np.float32))


def test_episode_without_actions_has_zero_samples_and_empty_is_skipped(handler):
    episode = EpisodeData()
    episode.add("obs/x", torch.zeros(2))
    handler.write_episode(episode)
    handler.write_episode(EpisodeData())
    assert handler.get_episode_names() == ["demo_0"]
    assert handler.demo_count == 1


def test_custom_demo_ids_do_not_advance_the_count_and_duplicates_raise(handler):
    handler.write_episode(make_episode(), demo_id=10)
    handler.write_episode(make_episode())
    assert sorted(handler.get_episode_names()) == ["demo_0", "demo_10"]
    assert handler.demo_count == 1
    with pytest.raises(ValueError, match="demo_10"):
        handler.write_episode(make_episode(), demo_id=10)
    with pytest.raises(ValueError, match="demo_0"):
        handler.write_episode(make_episode(), demo_id=0)
    # as in Isaac Lab, the count is that of the running names (custom ids do not advance it)
    assert handler.get_num_episodes() == 1


def test_reserved_names_are_unique_and_written_by_write_episode(handler):
    first = handler.reserve_episode_names([None])[0]
    second = handler.reserve_episode_names([None])[0]
    assert (first, second) == ("demo_0", "demo_1")
    # reserving only reserves: nothing is in the file yet
    assert handler.get_episode_names() == [] and handler.get_num_episodes() == 0
    with pytest.raises(ValueError, match="demo_1"):
        handler.reserve_episode_names([1])[0]
    # a custom id may not take a name reserved for the running count either
    with pytest.raises(ValueError, match="demo_0"):
        handler.write_episode(make_episode(), demo_id=0)
    assert handler.get_episode_names() == []
    # the ordinary write takes the reservations, in order
    handler.write_episode(make_episode())
    assert handler.get_episode_names() == ["demo_0"]
    handler.write_episode(make_episode())
    assert sorted(handler.get_episode_names()) == ["demo_0", "demo_1"]
    # custom ids: reserved once, written with write_episode, then taken for good
    assert handler.reserve_episode_names([7])[0] == "demo_7"
    with pytest.raises(ValueError, match="demo_7"):
        handler.reserve_episode_names([7])[0]
    handler.write_episode(make_episode(), demo_id=7)
    with pytest.raises(ValueError, match="demo_7"):
        handler.reserve_episode_names([7])[0]
    with pytest.raises(ValueError, match="demo_1"):
        handler.reserve_episode_names([1])[0]
    # a write without a reservation is still an ordinary write, under the next running name
    handler.write_episode(make_episode())
    assert sorted(handler.get_episode_names()) == ["demo_0", "demo_1", "demo_2", "demo_7"]
    assert handler.get_num_episodes() == handler.demo_count == 3
    assert handler.reserve_episode_names([None])[0] == "demo_3"


def test_reserve_needs_an_open_file():
    with pytest.raises(RuntimeError, match="not initialized"):
        HDF5DatasetFileHandler().reserve_episode_names([None])


def test_add_env_args_merges(handler):
    handler.add_env_args({"sim_args": {"dt": 0.01}})
    handler.add_env_args({"extra": 1})
    assert handler.get_env_name() == "Isaac-Test-v0"
    file = handler._hdf5_file_stream
    assert json.loads(file["data"].attrs["env_args"]) == {
        "env_name": "Isaac-Test-v0",
        "type": 2,
        "sim_args": {"dt": 0.01},
        "extra": 1,
    }


def test_load_round_trip(tmp_path, handler):
    written = make_episode(4, seed=5, success=True)
    expected_actions = torch.stack(written.data["actions"])
    expected_cam = torch.stack(written.data["obs"]["table_cam"])
    handler.write_episode(written)
    handler.close()
    reader = HDF5DatasetFileHandler()
    reader.open(str(tmp_path / "dataset.hdf5"))
    assert reader.get_env_name() == "Isaac-Test-v0"
    assert reader.get_num_episodes() == 1 and reader.demo_count == 1
    loaded = reader.load_episode("demo_0", device="cpu")
    # seed and success come back as stored (numpy scalars), as upstream returns them
    assert isinstance(loaded.seed, np.integer) and loaded.seed == 5
    assert isinstance(loaded.success, np.bool_) and bool(loaded.success) is True
    assert torch.equal(loaded.data["actions"], expected_actions)
    assert torch.equal(loaded.data["obs"]["table_cam"], expected_cam)
    assert loaded.get_initial_state()["articulation"]["robot"]["joint_position"].shape == (1, 9)
    assert torch.equal(loaded.get_next_action(), expected_actions[0])
    assert reader.load_episode("demo_9", device="cpu") is None
    reader.close()
    reader.close()


def test_open_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.hdf5"):
        HDF5DatasetFileHandler().open(str(tmp_path / "missing.hdf5"))
    with h5py.File(tmp_path / "plain.hdf5", "w") as file:
        file.create_dataset("x", data=[1])
    with pytest.raises(ValueError, match="no '/data' group"):
        HDF5DatasetFileHandler().open(str(tmp_path / "plain.hdf5"))
    with pytest.raises(RuntimeError, match="not initialized"):
        HDF5DatasetFileHandler().get_episode_names()
    # a failed open leaves the handler free for another file
    reader = HDF5DatasetFileHandler()
    with pytest.raises(ValueError, match="no '/data' group"):
        reader.open(str(tmp_path / "plain.hdf5"))
    assert reader.file_path is None
    with pytest.raises(FileNotFoundError):
        reader.open(str(tmp_path / "missing.hdf5"))
    # the file without /data was closed again: another handle may write it
    with h5py.File(tmp_path / "plain.hdf5", "a") as file:
        assert "x" in file


def test_open_append_continues_the_count(tmp_path, handler):
    handler.write_episode(make_episode())
    handler.close()
    appender = HDF5DatasetFileHandler()
    appender.open(str(tmp_path / "dataset.hdf5"), mode="a")
    appender.write_episode(make_episode())
    appender.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert sorted(file["data"].keys()) == ["demo_0", "demo_1"]
        assert file["data"].attrs["total"] == 10


def unstackable_episode() -> EpisodeData:
    """An episode whose write fails: its steps cannot be stacked (added directly, without the recorder's checks)."""
    bad = EpisodeData()
    bad.add("actions", torch.zeros(2))
    bad.add("actions", torch.zeros(3))
    return bad


def test_failed_write_frees_its_name_and_publishes_nothing(tmp_path, handler):
    with pytest.raises(RuntimeError):
        handler.write_episode(unstackable_episode(), demo_id=4)
    assert handler.get_episode_names() == [] and handler.get_num_episodes() == 0
    handler.write_episode(make_episode(), demo_id=4)
    handler.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert list(file["data"].keys()) == ["demo_4"]
        assert file["data"].attrs["total"] == 5
    assert os.path.getsize(tmp_path / "dataset.hdf5") > 0


def _actions_of(path, name) -> np.ndarray:
    with h5py.File(path, "r") as file:
        return file["data"][name]["actions"][()]


@pytest.mark.parametrize("reserved", [False, True], ids=["unreserved", "reserved"])
def test_failed_write_leaves_no_gap_in_the_running_names(tmp_path, handler, reserved):
    # writes A ok, B fails, C ok -> demo_0, demo_1 (C moves down into the name B would have had)
    if reserved:
        assert [handler.reserve_episode_names([None])[0] for _ in range(3)] == ["demo_0", "demo_1", "demo_2"]
    handler.write_episode(make_episode(2))
    with pytest.raises(RuntimeError):
        handler.write_episode(unstackable_episode())
    assert handler.get_episode_names() == ["demo_0"] and handler.get_num_episodes() == 1
    handler.write_episode(make_episode(3))
    assert sorted(handler.get_episode_names()) == ["demo_0", "demo_1"]
    assert handler.get_num_episodes() == 2 and handler.demo_count == 2
    # the failed write gave its reservation up: the next name follows on without a hole
    assert handler.reserve_episode_names([None])[0] == "demo_2"
    handler.write_episode(make_episode(4))
    handler.close()
    path = tmp_path / "dataset.hdf5"
    with h5py.File(path, "r") as file:
        assert sorted(file["data"].keys()) == ["demo_0", "demo_1", "demo_2"]
        assert file["data"].attrs["total"] == 2 + 3 + 4
        assert [file[f"data/demo_{i}"].attrs["num_samples"] for i in range(3)] == [2, 3, 4]
    # each demo holds its own episode's data
    for index, steps in enumerate([2, 3, 4]):
        np.testing.assert_array_equal(_actions_of(path, f"demo_{index}")[:, 0], np.arange(steps, dtype=np.float32))


def test_failed_write_with_a_reserved_custom_id_frees_the_id(handler):
    assert handler.reserve_episode_names([9])[0] == "demo_9"
    with pytest.raises(RuntimeError):
        handler.write_episode(unstackable_episode(), demo_id=9)
    assert handler.get_num_episodes() == 0
    # the reservation is gone: the id can be reserved and written again
    assert handler.reserve_episode_names([9])[0] == "demo_9"
    handler.write_episode(make_episode(), demo_id=9)
    assert handler.get_episode_names() == ["demo_9"] and handler.demo_count == 0
