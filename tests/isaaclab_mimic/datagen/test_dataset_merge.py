# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Merging dataset files (shards) into one: renumbering, values, attributes, env_args, crash safety, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

from isaaclab_mimic.datagen.dataset_merge import find_dataset_files, merge_datasets

REPO_ROOT = Path(__file__).resolve().parents[3]
MERGE_SCRIPT = REPO_ROOT / "scripts" / "imitation_learning" / "isaaclab_mimic" / "merge_datasets.py"
ENV_NAME = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"


def write_shard(path: Path, num_demos: int, seed: int, env_name: str = ENV_NAME, compression: bool = True) -> Path:
    """A dataset written by the recorder's file handler: demos of random lengths, float, uint8 and nested values."""
    generator = torch.Generator().manual_seed(seed)
    handler = HDF5DatasetFileHandler()
    handler.create(str(path), env_name=env_name)
    handler.add_env_args({"sim_args": {"dt": 0.025, "num_envs": 1}, f"shard_{seed}": seed})
    for index in range(num_demos):
        length = 3 + index
        episode = EpisodeData()
        episode.data = {
            "actions": torch.rand(length, 7, generator=generator),
            "obs": {"cam": torch.randint(0, 255, (length, 4, 4, 3), generator=generator, dtype=torch.uint8)},
            "initial_state": {"rigid_object": {"cube": {"root_pose": torch.rand(1, 7, generator=generator)}}},
        }
        episode.seed = seed * 100 + index
        episode.success = index % 2 == 0
        handler.write_episode(episode, dataset_compression=compression)
    handler.close()
    return path


@pytest.fixture
def shards(tmp_path: Path) -> list[Path]:
    """Three shards with 2, 0 and 3 demos."""
    folder = tmp_path / "shards"
    return [write_shard(folder / f"shard_{i}.hdf5", num, seed=i + 1) for i, num in enumerate((2, 0, 3))]


def assert_same_tree(a: h5py.Group, b: h5py.Group) -> None:
    """Same members, dtypes, shapes, values, compression and attributes, recursively."""
    assert dict(a.attrs) == dict(b.attrs)
    assert set(a) == set(b)
    for key in a:
        if isinstance(a[key], h5py.Group):
            assert_same_tree(a[key], b[key])
        else:
            assert (a[key].dtype, a[key].shape, a[key].compression) == (b[key].dtype, b[key].shape, b[key].compression)
            np.testing.assert_array_equal(a[key][()], b[key][()])


def test_merge_renumbers_demos_and_keeps_values_attributes_and_env_args(shards: list[Path], tmp_path: Path) -> None:
    result = merge_datasets([str(path) for path in shards], str(tmp_path / "merged"))

    assert result.output_file == str(tmp_path / "merged.hdf5")
    assert result.num_demos == 5 and result.demos_per_input == {str(path): n for path, n in zip(shards, (2, 0, 3))}
    assert result.input_bytes == sum(path.stat().st_size for path in shards) and result.throughput_mb_s > 0
    sources = [(shards[0], "demo_0"), (shards[0], "demo_1"), (shards[2], "demo_0"), (shards[2], "demo_1")]
    sources.append((shards[2], "demo_2"))
    with h5py.File(result.output_file, "r") as merged:
        assert sorted(merged["data"]) == [f"demo_{i}" for i in range(5)]
        for index, (path, name) in enumerate(sources):
            with h5py.File(path, "r") as shard:
                assert_same_tree(shard["data"][name], merged["data"][f"demo_{index}"])
        total = sum(int(demo.attrs["num_samples"]) for demo in merged["data"].values())
        assert merged["data"].attrs["total"] == total == result.total_samples == 3 + 4 + 3 + 4 + 5
        with h5py.File(shards[0], "r") as shard:
            assert dict(merged.attrs) == dict(shard.attrs)
        env_args = json.loads(merged["data"].attrs["env_args"])
    assert env_args["env_name"] == ENV_NAME and env_args["type"] == 2
    assert env_args["sim_args"] == {"dt": 0.025, "num_envs": 1}
    assert {env_args["shard_1"], env_args["shard_2"], env_args["shard_3"]} == {1, 2, 3}

    handler = HDF5DatasetFileHandler()
    handler.open(result.output_file)
    assert handler.get_num_episodes() == 5 and handler.get_env_name() == ENV_NAME
    episode = handler.load_episode("demo_2", "cpu")
    handler.close()
    assert episode.data["actions"].shape == (3, 7) and episode.data["obs"]["cam"].dtype == torch.uint8
    assert int(episode.seed) == 300 and bool(episode.success)


def test_uncompressed_inputs_stay_uncompressed(tmp_path: Path) -> None:
    shard = write_shard(tmp_path / "plain.hdf5", 1, seed=1, compression=False)
    result = merge_datasets([str(shard)], str(tmp_path / "merged.hdf5"))
    with h5py.File(result.output_file, "r") as merged:
        assert merged["data/demo_0/actions"].compression is None


def test_max_demos_takes_the_first_demos_in_input_order(shards: list[Path], tmp_path: Path) -> None:
    result = merge_datasets([str(path) for path in shards], str(tmp_path / "merged.hdf5"), max_demos=3)
    assert result.num_demos == 3
    with h5py.File(result.output_file, "r") as merged, h5py.File(shards[2], "r") as last:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2"]
        assert_same_tree(last["data/demo_0"], merged["data/demo_2"])


def test_an_interrupted_merge_leaves_a_valid_file_with_every_merged_demo(shards: list[Path], tmp_path: Path) -> None:
    output = tmp_path / "merged.hdf5"

    def interrupt_after_two(num_merged: int) -> None:
        if num_merged == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        merge_datasets([str(path) for path in shards], str(output), progress_callback=interrupt_after_two)
    with h5py.File(output, "r") as merged:
        assert sorted(merged["data"]) == ["demo_0", "demo_1"]
        assert merged["data"].attrs["total"] == 3 + 4


def test_a_killed_merge_leaves_a_valid_file(shards: list[Path], tmp_path: Path) -> None:
    """SIGKILL (os._exit, no cleanup) right after the third demo is published: every published demo is readable."""
    output = tmp_path / "merged.hdf5"
    code = (
        "import os, sys\n"
        "from isaaclab_mimic.datagen.dataset_merge import merge_datasets\n"
        "merge_datasets(sys.argv[2:], sys.argv[1], progress_callback=lambda n: n == 3 and os._exit(9))\n"
    )
    process = subprocess.run([sys.executable, "-c", code, str(output), *map(str, shards)], capture_output=True)
    assert process.returncode == 9, process.stderr.decode()
    with h5py.File(output, "r") as merged:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2"]
        assert merged["data/demo_2/actions"].shape == (3, 7)


def test_merge_refuses_bad_inputs_before_writing(shards: list[Path], tmp_path: Path) -> None:
    other = write_shard(tmp_path / "other.hdf5", 1, seed=9, env_name="Another-Task-v0")
    not_hdf5 = tmp_path / "notes.hdf5"
    not_hdf5.write_text("not a dataset")
    output = tmp_path / "merged.hdf5"
    with pytest.raises(ValueError, match="different environments"):
        merge_datasets([str(shards[0]), str(other)], str(output))
    with pytest.raises(ValueError, match="notes.hdf5"):
        merge_datasets([str(shards[0]), str(not_hdf5)], str(output))
    with pytest.raises(ValueError, match="named twice"):
        merge_datasets([str(shards[0]), str(shards[0])], str(output))
    with pytest.raises(ValueError, match="No dataset files"):
        merge_datasets([], str(output))
    assert not output.exists()
    output.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        merge_datasets([str(shards[0])], str(output))
    assert output.read_bytes() == b"keep"


def test_find_dataset_files_orders_shards_naturally_and_splits_failed_ones(tmp_path: Path) -> None:
    for name in ("shard_10.hdf5", "shard_2.hdf5", "shard_2_failed.hdf5", "shard_10_failed.hdf5", "notes.txt"):
        (tmp_path / name).touch()
    datasets, failed = find_dataset_files([str(tmp_path / "shard_10.hdf5"), str(tmp_path)])
    assert [Path(path).name for path in datasets] == ["shard_10.hdf5", "shard_2.hdf5", "shard_10.hdf5"]
    assert [Path(path).name for path in failed] == ["shard_2_failed.hdf5", "shard_10_failed.hdf5"]
    with pytest.raises(FileNotFoundError, match="missing"):
        find_dataset_files([str(tmp_path / "missing")])


def test_merge_script_merges_a_shard_folder_and_its_failed_shards(tmp_path: Path) -> None:
    folder = tmp_path / "run_shards"
    write_shard(folder / "shard_0.hdf5", 2, seed=1)
    write_shard(folder / "shard_1.hdf5", 1, seed=2)
    write_shard(folder / "shard_1_failed.hdf5", 2, seed=3)
    output = tmp_path / "run.hdf5"

    def merge() -> subprocess.CompletedProcess:
        command = [sys.executable, str(MERGE_SCRIPT), "--input_files", str(folder), "--output_file", str(output)]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)

    result = merge()
    assert result.returncode == 0, result.stderr
    assert f"Merged 3 demos from 2 file(s) into {output}" in result.stdout
    assert f"Merged 2 demos from 1 file(s) into {tmp_path / 'run_failed.hdf5'}" in result.stdout
    with h5py.File(output, "r") as merged, h5py.File(tmp_path / "run_failed.hdf5", "r") as failed:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2"]
        assert sorted(failed["data"]) == ["demo_0", "demo_1"]
    assert sorted(path.name for path in folder.iterdir()) == ["shard_0.hdf5", "shard_1.hdf5", "shard_1_failed.hdf5"]

    again = merge()
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
