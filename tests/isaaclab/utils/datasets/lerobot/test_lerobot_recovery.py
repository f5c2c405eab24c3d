# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Recovery of a LeRobot dataset whose writing process was killed (SIGKILL), and the recovery command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _lerobot_episodes import episode_arrays  # noqa: E402
from test_lerobot_dataset_file_handler import assert_episode_matches, open_dataset  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 5))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lerobot_crash_worker.py")
RECOVER_SCRIPT = os.path.join(REPO_ROOT, "scripts", "tools", "recover_lerobot_dataset.py")
NUM_STEPS = 20


def kill_after(root, num_episodes: int, video_mb: float) -> None:
    """Start the worker and SIGKILL it right after it reports ``num_episodes`` written (it is then writing the
    next one)."""
    worker = subprocess.Popen(
        [sys.executable, WORKER, str(root), str(NUM_STEPS), str(video_mb)], stdout=subprocess.PIPE, text=True
    )
    try:
        for line in worker.stdout:
            if line.strip() == f"written {num_episodes}":
                break
        else:
            pytest.fail(f"the worker exited with {worker.wait()} before writing {num_episodes} episodes")
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    assert worker.returncode == -signal.SIGKILL


@pytest.mark.parametrize("video_mb", [200.0, 0.01], ids=["one-file", "rolled-over"])
def test_every_written_episode_is_recovered(tmp_path, video_mb):
    """After a SIGKILL, the recovery command makes a complete dataset of every episode written before the kill (and
    at most the one being written, if it had finished), each identical to what was written."""
    root = tmp_path / "dataset"
    kill_after(root, 4, video_mb)
    assert not (root / "meta/info.json").exists()
    result = subprocess.run([sys.executable, RECOVER_SCRIPT, str(root)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    reader = open_dataset(root)
    num_episodes = reader.get_num_episodes()
    assert num_episodes in (4, 5)
    assert f"Recovered {num_episodes} episodes" in result.stdout
    for index in range(num_episodes):
        assert_episode_matches(reader.load_episode(f"demo_{index}"), episode_arrays(index, NUM_STEPS + index))
    info = json.loads((root / "meta/info.json").read_text())
    assert info["total_frames"] == sum(NUM_STEPS + index for index in range(num_episodes))
    assert not (root / ".recovery").exists()
    # nothing is left of the episode that was being written
    for folder, _, names in os.walk(root):
        for name in names:
            assert name.endswith((".parquet", ".mp4", ".json")), os.path.join(folder, name)


def test_recover_command_without_journal(tmp_path):
    (tmp_path / "dataset").mkdir()
    result = subprocess.run([sys.executable, RECOVER_SCRIPT, str(tmp_path / "dataset")], capture_output=True, text=True)
    assert result.returncode != 0
    assert "no recovery journal" in result.stderr
