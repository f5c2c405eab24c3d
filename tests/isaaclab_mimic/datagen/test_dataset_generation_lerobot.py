# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""generate_dataset writing a LeRobot dataset: the same demos as the HDF5 of the same seeded job."""

from __future__ import annotations

import json

import numpy as np
import pytest

from isaaclab.utils.datasets import HDF5DatasetFileHandler
from isaaclab.utils.datasets.lerobot import LeRobotDatasetFileHandler

from isaaclab_mimic.datagen.dataset_format import dataset_output_path
from isaaclab_mimic.datagen.dataset_generation import generate_dataset

pytestmark = pytest.mark.slow

TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"


def test_lerobot_dataset_holds_the_demos_of_the_hdf5_job(annotated_source_dataset, tmp_path):
    """With --async_write, the LeRobot dataset has the demos, lengths and actions of the synchronous HDF5 job."""
    jobs = {"hdf5": dict(async_write=False), "lerobot": dict(async_write=True)}
    summaries = {
        dataset_format: generate_dataset(
            TASK,
            annotated_source_dataset,
            str(tmp_path / "out.hdf5"),
            num_envs=2,
            generation_num_trials=3,
            seed=3,
            show_progress=False,
            dataset_format=dataset_format,
            **settings,
        )
        for dataset_format, settings in jobs.items()
    }
    assert summaries["lerobot"].output_file == str(tmp_path / "out")
    hdf5 = HDF5DatasetFileHandler()
    hdf5.open(summaries["hdf5"].output_file)
    lerobot = LeRobotDatasetFileHandler()
    lerobot.open(summaries["lerobot"].output_file)
    names = sorted(hdf5.get_episode_names(), key=lambda name: int(name.split("_")[1]))
    assert lerobot.get_num_episodes() == len(names) == 3
    for index, name in enumerate(names):
        expected = hdf5.load_episode(name, "cpu").data
        episode = lerobot.load_episode(f"demo_{index}").data
        np.testing.assert_array_equal(episode["actions"].numpy(), expected["actions"].numpy())
        np.testing.assert_array_equal(
            episode["obs"]["eef_pos"].numpy(), expected["obs"]["eef_pos"].numpy().reshape(len(expected["actions"]), -1)
        )
    hdf5.close()
    info = json.loads((tmp_path / "out" / "meta" / "info.json").read_text())
    assert info["fps"] == 20 and "datagen_info" not in json.dumps(info["features"])


def test_an_existing_lerobot_folder_is_refused(annotated_source_dataset, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_dataset(TASK, annotated_source_dataset, str(tmp_path / "out"), dataset_format="lerobot")
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep"
    assert dataset_output_path("a/b.hdf5", "lerobot").endswith("a/b")
    with pytest.raises(ValueError, match="Unknown dataset format"):
        dataset_output_path("a", "zarr")
