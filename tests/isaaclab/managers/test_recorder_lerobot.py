# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The recorder writing LeRobot datasets through its dataset file handler settings, with synchronous and
asynchronous export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _async_helpers import DataEnv, expected_demo, record_steps

from isaaclab.managers import DatasetExportMode
from isaaclab.utils.datasets.lerobot import LeRobotDatasetCfg, LeRobotDatasetFileHandler


@pytest.mark.parametrize("async_write", [False, True], ids=["sync", "async"])
def test_recorder_writes_lerobot_datasets(recorder, tmp_path, async_write):
    """Succeeded and failed episodes go to ``<name>`` and ``<name>_failed`` LeRobot folders, with the recorded
    actions, state and frames, at the frame rate of the env's ``dt * decimation``."""
    manager, env = recorder(
        env=DataEnv(num_envs=4, image_size=64),
        dataset_file_handler_class_type=LeRobotDatasetFileHandler,
        dataset_file_handler_cfg=LeRobotDatasetCfg(task="test task"),
        dataset_export_mode=DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES,
        async_write=async_write,
    )
    manager.reset()
    first_steps = record_steps(manager, env, 12)
    env.success[:] = torch.tensor([True, False, True, False])
    manager.record_pre_reset([0, 1, 2, 3], force_export_or_skip=True)
    second_steps = record_steps(manager, env, 7)
    env.success[:] = True
    manager.record_pre_reset([3], force_export_or_skip=True)
    manager.close()
    assert (manager.exported_successful_episode_count, manager.exported_failed_episode_count) == (3, 2)

    expected = {
        "dataset": [(first_steps, 0), (first_steps, 2), (second_steps, 3)],
        "dataset_failed": [(first_steps, 1), (first_steps, 3)],
    }
    for name, demos in expected.items():
        reader = LeRobotDatasetFileHandler()
        reader.open(str(tmp_path / name))
        assert reader.get_num_episodes() == len(demos)
        assert reader.get_env_name() == env.cfg.env_name
        for index, (steps, env_id) in enumerate(demos):
            episode = reader.load_episode(f"demo_{index}")
            arrays = expected_demo(steps, env_id, image_size=64)
            np.testing.assert_array_equal(episode.data["actions"].numpy(), arrays["actions"])
            np.testing.assert_array_equal(episode.data["obs"]["eef_pos"].numpy(), arrays["obs/eef_pos"])
            frames = episode.data["obs"]["cam0"].numpy().astype(np.int16)
            assert frames.shape == arrays["obs/cam0"].shape
            assert np.abs(frames - arrays["obs/cam0"]).mean() < 6.0
        info = json.loads((tmp_path / name / "meta/info.json").read_text())
        assert info["fps"] == 100
        assert info["features"]["observation.state"]["names"] == ["eef_pos_0", "eef_pos_1", "eef_pos_2"]
