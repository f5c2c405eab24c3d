# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""``scripts/tools/convert_hdf5_to_lerobot.py``, run as a subprocess on HDF5 files the recorder's handler wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "tools" / "convert_hdf5_to_lerobot.py"
sys.path.insert(0, str(REPO_ROOT / "tests" / "isaaclab" / "utils" / "datasets" / "lerobot"))

from _lerobot_episodes import SIM_ARGS, episode_arrays, make_episode  # noqa: E402
from test_lerobot_dataset_file_handler import assert_episode_matches, open_dataset  # noqa: E402

from isaaclab.utils.datasets import HDF5DatasetFileHandler  # noqa: E402


def write_hdf5(path: Path, first: int, lengths: list[int], env_args: dict | None = SIM_ARGS) -> None:
    handler = HDF5DatasetFileHandler()
    handler.create(str(path), env_name="Isaac-Test-v0")
    if env_args:
        handler.add_env_args(env_args)
    for offset, length in enumerate(lengths):
        handler.write_episode(make_episode(first + offset, length))
    handler.close()


def convert(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def hdf5_files(tmp_path_factory) -> list[Path]:
    """Two HDF5 datasets of 11 and 1 demos."""
    folder = tmp_path_factory.mktemp("hdf5")
    write_hdf5(folder / "a.hdf5", 0, LENGTHS_A)
    write_hdf5(folder / "b.hdf5", len(LENGTHS_A), [11])
    return [folder / "a.hdf5", folder / "b.hdf5"]


LENGTHS_A = [14, 9, 5, 6, 5, 6, 5, 6, 5, 6, 7]
"""More than 10 demos: demo_10 comes after demo_9 (not after demo_1)."""


def test_files_become_one_dataset(tmp_path, hdf5_files):
    """The demos of every file, in order, with the frame rate of the files' env_args and the file's env name."""
    output = tmp_path / "lerobot"
    result = convert("--hdf5", *map(str, hdf5_files), "--output", str(output), "--codec", "libx264")
    assert result.returncode == 0, result.stderr
    assert "Converting" in result.stderr  # the progress bar
    reader = open_dataset(output)
    assert reader.get_num_episodes() == len(LENGTHS_A) + 1
    for index, length in enumerate([*LENGTHS_A, 11]):
        assert_episode_matches(reader.load_episode(f"demo_{index}"), episode_arrays(index, length))
    info = json.loads((output / "meta/info.json").read_text())
    assert info["fps"] == 20
    assert info["features"]["observation.images.table_cam"]["info"]["video.encoder"] == "libx264"
    assert reader.get_env_name() == "Isaac-Test-v0"


def test_keys_task_and_rate_from_flags(tmp_path, hdf5_files):
    output = tmp_path / "lerobot"
    result = convert(
        "--hdf5",
        str(hdf5_files[1]),
        "--output",
        str(output),
        "--cameras",
        "wrist_cam",
        "--state-keys",
        "obs/gripper_pos",
        "--task",
        "Stack the cubes",
        "--fps",
        "10",
    )
    assert result.returncode == 0, result.stderr
    info = json.loads((output / "meta/info.json").read_text())
    assert info["fps"] == 10
    assert [name for name in info["features"] if name.startswith("observation")] == [
        "observation.state",
        "observation.images.wrist_cam",
    ]
    assert info["features"]["observation.state"]["shape"] == [2]
    episodes = pq.read_table(output / "meta/episodes/chunk-000/file-000.parquet")
    assert episodes.column("tasks").to_pylist() == [["Stack the cubes"]]


def test_existing_output_is_refused_and_kept(tmp_path, hdf5_files):
    output = tmp_path / "lerobot"
    output.mkdir()
    (output / "keep.txt").write_text("mine")
    result = convert("--hdf5", str(hdf5_files[0]), "--output", str(output))
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert [path.name for path in output.iterdir()] == ["keep.txt"]


def test_missing_frame_rate_asks_for_fps(tmp_path):
    write_hdf5(tmp_path / "no_args.hdf5", 0, [5], env_args=None)
    result = convert("--hdf5", str(tmp_path / "no_args.hdf5"), "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "--fps" in result.stderr
    assert not (tmp_path / "out").exists()
