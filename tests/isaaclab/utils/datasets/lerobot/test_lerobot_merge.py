# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Merging LeRobot datasets (the shards of a distributed generation) into one."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _lerobot_episodes import SIM_ARGS, episode_arrays, make_episode  # noqa: E402
from test_lerobot_dataset_file_handler import assert_episode_matches, open_dataset  # noqa: E402

from isaaclab.utils.datasets.lerobot import (  # noqa: E402
    LeRobotDatasetCfg,
    LeRobotDatasetFileHandler,
    merge_lerobot_datasets,
)

SHARDS = {"shard_0": [(0, 12), (1, 9)], "shard_1": [(2, 14)], "shard_2": [(3, 8), (4, 10), (5, 11)]}
"""Per shard, its episodes as (contents index, length)."""


def write(root, episodes, **cfg_changes) -> None:
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(task="stack", **cfg_changes))
    handler.create(str(root), env_name="Isaac-Test-v0")
    handler.add_env_args(SIM_ARGS)
    for index, length in episodes:
        handler.write_episode(make_episode(index, length))
    handler.close()


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("shards")
    for name, episodes in SHARDS.items():
        # small files, so that a shard spans several data and video files
        write(folder / name, episodes, video_files_size_in_mb=0.01, data_files_size_in_mb=0.004)
    return [str(folder / name) for name in SHARDS]


def test_shards_merge_in_order(shards, tmp_path):
    """The merged dataset holds every shard's episodes in order, renumbered, with the statistics of a dataset written
    in one go."""
    merged = tmp_path / "merged"
    assert merge_lerobot_datasets(shards, str(merged)) == 6
    episodes = [episode for shard in SHARDS.values() for episode in shard]
    reader = open_dataset(merged)
    assert reader.get_num_episodes() == len(episodes)
    for position, (index, length) in enumerate(episodes):
        assert_episode_matches(reader.load_episode(f"demo_{position}"), episode_arrays(index, length))
    rows = pq.read_table(merged / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [row["episode_index"] for row in rows] == list(range(6))
    total = sum(length for _, length in episodes)
    assert rows[-1]["dataset_to_index"] == total
    data = pq.read_table(merged / "data").sort_by("index")
    assert data.column("index").to_pylist() == list(range(total))
    assert data.column("episode_index").to_pylist() == [i for i, (_, n) in enumerate(episodes) for _ in range(n)]
    write(tmp_path / "one_go", episodes)
    expected = json.loads((tmp_path / "one_go/meta/stats.json").read_text())
    stats = json.loads((merged / "meta/stats.json").read_text())
    for feature in ("action", "observation.state", "index", "episode_index", "observation.images.table_cam"):
        for name in ("min", "max", "mean", "std", "count"):
            np.testing.assert_allclose(stats[feature][name], expected[feature][name], rtol=1e-6, err_msg=feature)
    info = json.loads((merged / "meta/info.json").read_text())
    assert (info["total_episodes"], info["total_frames"]) == (6, total)


def test_merge_keeps_at_most_max_episodes(shards, tmp_path):
    assert merge_lerobot_datasets(shards, str(tmp_path / "merged"), max_episodes=4) == 4
    reader = open_dataset(tmp_path / "merged")
    assert reader.get_num_episodes() == 4
    assert_episode_matches(reader.load_episode("demo_3"), episode_arrays(3, 8))


def test_merge_refuses_different_datasets_and_existing_output(shards, tmp_path):
    write(tmp_path / "other_rate", [(0, 5)], fps=10)
    with pytest.raises(ValueError, match="other_rate.*fps"):
        merge_lerobot_datasets([shards[0], str(tmp_path / "other_rate")], str(tmp_path / "merged"))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        merge_lerobot_datasets(shards, str(tmp_path / "taken"))
