# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The LeRobot dataset file handler: layout, contents, rollover, statistics, errors, and the recorder driving it."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _lerobot_episodes import CAMERAS, SIM_ARGS, episode_arrays, make_episode  # noqa: E402

from isaaclab.utils.datasets.lerobot import (  # noqa: E402
    LeRobotDatasetCfg,
    LeRobotDatasetFileHandler,
    VideoCodecCfg,
    recover_dataset,
)
from isaaclab.utils.datasets.lerobot.video_file import mdat_payload_offset  # noqa: E402

MAX_MEAN_ABS_ERROR = 6.0
"""Decoded frames may differ from the recorded ones by this much on average (uint8 levels)."""

LENGTHS = (12, 17, 9)


def write_dataset(root, lengths=LENGTHS, **cfg_changes) -> LeRobotDatasetFileHandler:
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(task="stack the cubes", **cfg_changes))
    handler.create(str(root), env_name="Isaac-Test-v0")
    handler.add_env_args(SIM_ARGS)
    for index, length in enumerate(lengths):
        handler.write_episode(make_episode(index, length))
        handler.flush()
    handler.close()
    return handler


def assert_episode_matches(loaded, expected: dict[str, np.ndarray]) -> None:
    np.testing.assert_array_equal(loaded.data["actions"].numpy(), expected["actions"])
    np.testing.assert_array_equal(loaded.data["obs"]["eef_pos"].numpy(), expected["obs/eef_pos"])
    np.testing.assert_array_equal(loaded.data["obs"]["gripper_pos"].numpy(), expected["obs/gripper_pos"])
    for cam in CAMERAS:
        frames = loaded.data["obs"][cam].numpy()
        assert frames.shape == expected[f"obs/{cam}"].shape
        error = np.abs(frames.astype(np.int16) - expected[f"obs/{cam}"]).mean(axis=(1, 2, 3))
        assert error.max() < MAX_MEAN_ABS_ERROR, f"{cam}: mean absolute error per frame up to {error.max():.2f}"


def open_dataset(root) -> LeRobotDatasetFileHandler:
    reader = LeRobotDatasetFileHandler()
    reader.open(str(root))
    return reader


@pytest.mark.parametrize("codec", ["libsvtav1", "libx264"])
def test_episodes_read_back(tmp_path, codec):
    """Every episode comes back: actions and state exactly, every frame within the error bound."""
    root = tmp_path / "dataset"
    write_dataset(root, video=VideoCodecCfg(codec=codec))
    reader = open_dataset(root)
    assert reader.get_num_episodes() == len(LENGTHS)
    assert reader.get_env_name() == "Isaac-Test-v0"
    for index, length in enumerate(LENGTHS):
        assert_episode_matches(reader.load_episode(f"demo_{index}"), episode_arrays(index, length))
    assert reader.load_episode(f"demo_{len(LENGTHS)}") is None


def test_layout_and_metadata(tmp_path):
    """The LeRobot v3.0 files, features and totals; the journal is gone once closed."""
    root = tmp_path / "dataset"
    write_dataset(root)
    files = sorted(
        os.path.relpath(os.path.join(folder, name), root) for folder, _, names in os.walk(root) for name in names
    )
    assert files == sorted(
        [
            "data/chunk-000/file-000.parquet",
            "meta/episodes/chunk-000/file-000.parquet",
            "meta/info.json",
            "meta/isaaclab.json",
            "meta/stats.json",
            "meta/tasks.parquet",
            *(f"videos/observation.images.{cam}/chunk-000/file-000.mp4" for cam in CAMERAS),
        ]
    )
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert info["fps"] == 20
    assert (info["total_episodes"], info["total_frames"]) == (len(LENGTHS), sum(LENGTHS))
    features = info["features"]
    assert features["action"]["shape"] == [7]
    assert features["observation.state"]["names"] == [
        "eef_pos_0",
        "eef_pos_1",
        "eef_pos_2",
        "gripper_pos_0",
        "gripper_pos_1",
    ]
    video = features["observation.images.table_cam"]
    assert (video["dtype"], video["shape"]) == ("video", [64, 64, 3])
    assert (video["info"]["video.codec"], video["info"]["video.pix_fmt"]) == ("av1", "yuv420p")
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [row["length"] for row in episodes] == list(LENGTHS)
    assert [row["dataset_from_index"] for row in episodes] == [0, LENGTHS[0], LENGTHS[0] + LENGTHS[1]]
    # episodes follow each other in the mp4 file, at the frame rate
    assert [row["videos/observation.images.table_cam/from_timestamp"] for row in episodes] == [
        0.0,
        LENGTHS[0] / 20,
        (LENGTHS[0] + LENGTHS[1]) / 20,
    ]
    data = pq.read_table(root / "data/chunk-000/file-000.parquet")
    assert data.column("index").to_pylist() == list(range(sum(LENGTHS)))
    assert data.column("frame_index").to_pylist()[: LENGTHS[0] + 1] == [*range(LENGTHS[0]), 0]
    tasks = pq.read_table(root / "meta/tasks.parquet")
    assert tasks.column("task").to_pylist() == ["stack the cubes"]
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]


def test_statistics_match_the_data(tmp_path):
    """meta/stats.json, aggregated episode by episode, has the exact min, max, mean, std and count of the data."""
    root = tmp_path / "dataset"
    write_dataset(root)
    stats = json.loads((root / "meta/stats.json").read_text())
    actions = np.concatenate([episode_arrays(index, length)["actions"] for index, length in enumerate(LENGTHS)])
    np.testing.assert_allclose(stats["action"]["mean"], actions.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["action"]["std"], actions.std(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["action"]["min"], actions.min(axis=0))
    np.testing.assert_allclose(stats["action"]["max"], actions.max(axis=0))
    assert stats["action"]["count"] == [sum(LENGTHS)]
    frames = np.concatenate([episode_arrays(index, length)["obs/wrist_cam"] for index, length in enumerate(LENGTHS)])
    camera = {name: np.asarray(value).reshape(-1) for name, value in stats["observation.images.wrist_cam"].items()}
    np.testing.assert_allclose(camera["mean"], frames.reshape(-1, 3).mean(axis=0) / 255, rtol=1e-9)
    np.testing.assert_allclose(camera["std"], frames.reshape(-1, 3).std(axis=0) / 255, rtol=1e-6)
    np.testing.assert_allclose(camera["max"], frames.reshape(-1, 3).max(axis=0) / 255)
    # an episode's quantiles are exact; the dataset's are their frame-weighted mean, as LeRobot aggregates them
    rows = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    first = episode_arrays(0, LENGTHS[0])["obs/wrist_cam"].reshape(-1, 3)
    median = np.asarray(rows[0]["stats/observation.images.wrist_cam/q50"]).reshape(-1)
    np.testing.assert_allclose(median, np.quantile(first, 0.5, axis=0, method="inverted_cdf") / 255)
    assert np.asarray(stats["observation.images.wrist_cam"]["mean"]).shape == (3, 1, 1)
    assert stats["index"]["max"] == [sum(LENGTHS) - 1]


def test_open_video_file_only_grows(tmp_path):
    """Adding an episode appends its frames to the open mp4 file: what earlier episodes wrote is never re-written
    (closing the file fills in the mdat box's size and appends the index)."""
    root = tmp_path / "dataset"
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(task="stack"))
    handler.create(str(root))
    handler.add_env_args(SIM_ARGS)
    video = root / "videos/observation.images.table_cam/chunk-000/file-000.mp4"
    previous = b""
    for index in range(3):
        handler.write_episode(make_episode(index, 15))
        frames = video.read_bytes()[mdat_payload_offset(str(video)) :]
        assert frames.startswith(previous) and len(frames) > len(previous)
        previous = frames
    handler.close()
    assert video.read_bytes()[mdat_payload_offset(str(video)) :].startswith(previous)


def test_files_roll_over(tmp_path):
    """With small size limits, episodes spread over several data and video files, and every one reads back."""
    root = tmp_path / "dataset"
    lengths = [20, 25, 30, 35, 20, 25]
    write_dataset(root, lengths, video_files_size_in_mb=0.004, data_files_size_in_mb=0.002)
    assert len(list((root / "videos/observation.images.table_cam/chunk-000").iterdir())) > 1
    assert len(list((root / "data/chunk-000").iterdir())) > 1
    reader = open_dataset(root)
    for index, length in enumerate(lengths):
        assert_episode_matches(reader.load_episode(f"demo_{index}"), episode_arrays(index, length))


def test_existing_folder_is_refused_and_kept(tmp_path):
    """A non-empty folder or a file is never written into nor deleted; an empty folder is used."""
    root = tmp_path / "dataset"
    root.mkdir()
    (root / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        LeRobotDatasetFileHandler().create(str(root))
    assert (root / "notes.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        LeRobotDatasetFileHandler().create(str(tmp_path / "file"))
    (tmp_path / "empty").mkdir()
    handler = LeRobotDatasetFileHandler()
    handler.create(str(tmp_path / "empty"))
    handler.close()


def test_mismatched_episode_is_rejected(tmp_path):
    """An episode whose keys differ from the first one's fails with the key; the dataset keeps the good episodes."""
    root = tmp_path / "dataset"
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(task="stack"))
    handler.create(str(root))
    handler.add_env_args(SIM_ARGS)
    handler.write_episode(make_episode(0, 10))
    with pytest.raises(ValueError, match="obs/table_cam"):
        handler.write_episode(make_episode(1, 10, image_size=32))
    bad = make_episode(2, 10)
    del bad.data["obs"]["eef_pos"]
    with pytest.raises(KeyError, match="obs/eef_pos"):
        handler.write_episode(bad)
    handler.write_episode(make_episode(3, 11))
    handler.close()
    reader = open_dataset(root)
    assert reader.get_num_episodes() == 2
    assert_episode_matches(reader.load_episode("demo_1"), episode_arrays(3, 11))


def test_configured_keys(tmp_path):
    """Only the configured camera and state keys are stored."""
    root = tmp_path / "dataset"
    write_dataset(root, camera_keys=["obs/wrist_cam"], state_keys=["obs/gripper_pos"])
    info = json.loads((root / "meta/info.json").read_text())
    assert sorted(info["features"]) == sorted(
        [
            "action",
            "observation.state",
            "observation.images.wrist_cam",
            "timestamp",
            "frame_index",
            "episode_index",
            "index",
            "task_index",
        ]
    )
    assert info["features"]["observation.state"]["shape"] == [2]


def test_unknown_frame_rate_is_an_error(tmp_path):
    handler = LeRobotDatasetFileHandler()
    handler.create(str(tmp_path / "dataset"))
    with pytest.raises(ValueError, match="frame rate"):
        handler.write_episode(make_episode(0, 5))
    handler.close()
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(fps=12.5))
    handler.create(str(tmp_path / "dataset2"))
    with pytest.raises(ValueError, match="whole number"):
        handler.write_episode(make_episode(0, 5))
    handler.close()


def test_odd_frame_size_is_an_error(tmp_path):
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(fps=20))
    handler.create(str(tmp_path / "dataset"))
    with pytest.raises(ValueError, match="must be even"):
        handler.write_episode(make_episode(0, 5, image_size=33))
    handler.close()


def test_encoder_fallback(tmp_path, caplog):
    """An encoder that cannot open (NVENC without a GPU that has it) falls back, with a warning naming both; without
    a fallback, the error names the encoder."""
    cfg = LeRobotDatasetCfg(fps=20, video=VideoCodecCfg(codec="h264_nvenc", fallback_codec="libx264"))
    handler = LeRobotDatasetFileHandler(cfg)
    handler.create(str(tmp_path / "dataset"))
    with caplog.at_level(logging.WARNING):
        handler.write_episode(make_episode(0, 6))
    handler.close()
    info = json.loads((tmp_path / "dataset/meta/info.json").read_text())
    encoder = info["features"]["observation.images.table_cam"]["info"]["video.encoder"]
    if encoder == "h264_nvenc":
        pytest.skip("this machine has NVENC")
    assert encoder == "libx264"
    assert "h264_nvenc" in caplog.text and "libx264" in caplog.text
    handler = LeRobotDatasetFileHandler(
        LeRobotDatasetCfg(fps=20, video=VideoCodecCfg(codec="h264_nvenc", fallback_codec=None))
    )
    handler.create(str(tmp_path / "dataset2"))
    with pytest.raises(ValueError, match="h264_nvenc"):
        handler.write_episode(make_episode(0, 6))
    handler.close()


def test_recover_needs_a_journal(tmp_path):
    write_dataset(tmp_path / "dataset", lengths=(5,))
    with pytest.raises(FileNotFoundError, match="no recovery journal"):
        recover_dataset(str(tmp_path / "dataset"))


def test_missing_extra_is_named():
    """Without PyAV, importing the handler says which extra to install."""
    code = "import sys; sys.modules['av'] = None; import isaaclab.utils.datasets.lerobot"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "'lerobot' extra" in result.stderr


def test_a_failed_write_leaves_the_episode_out(tmp_path, monkeypatch):
    """When writing an episode fails midway (here: its rows, after its frames were encoded, as on a full disk), the
    error reaches the caller, the open files are closed with the complete episodes, and the next episode goes to new
    files: the dataset holds every other episode, numbered without a gap."""
    from isaaclab.utils.datasets.lerobot import data_file

    root = tmp_path / "dataset"
    handler = LeRobotDatasetFileHandler(LeRobotDatasetCfg(task="stack"))
    handler.create(str(root))
    handler.add_env_args(SIM_ARGS)
    for index in range(2):
        handler.write_episode(make_episode(index, 10 + index))
    append = data_file.DataFileWriter.append

    def full_disk(self, table):
        append(self, table)  # the rows reach the stream, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(data_file.DataFileWriter, "append", full_disk)
    with pytest.raises(OSError, match="No space left"):
        handler.write_episode(make_episode(2, 12))
    monkeypatch.setattr(data_file.DataFileWriter, "append", append)
    handler.write_episode(make_episode(3, 13))
    handler.close()
    reader = open_dataset(root)
    assert reader.get_num_episodes() == 3
    for index, (source, length) in enumerate([(0, 10), (1, 11), (3, 13)]):
        assert_episode_matches(reader.load_episode(f"demo_{index}"), episode_arrays(source, length))
    assert (
        pq.read_table(root / "data/chunk-000/file-000.parquet").column("episode_index").to_pylist()
        == [0] * 10 + [1] * 11
    )
    assert pq.read_table(root / "data/chunk-000/file-001.parquet").column("episode_index").to_pylist() == [2] * 13
    assert json.loads((root / "meta/info.json").read_text())["total_frames"] == 34


def test_encoder_threads_keep_the_writer_priority(tmp_path):
    """SVT-AV1 run by root gives its threads, and the thread that opens it, real-time priority (ahead of the
    simulation loop): after writing, no thread of the process is real-time and the writing thread keeps its nice."""
    import threading

    niceness = []

    def write() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # as the recorder's writer thread
        write_dataset(tmp_path / "dataset", lengths=(8, 9))
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        niceness.append(os.sched_getscheduler(0))

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    assert niceness == [10, os.SCHED_OTHER]
    policies = []
    for name in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            policies.append(os.sched_getscheduler(int(name)))
    assert not {os.SCHED_FIFO, os.SCHED_RR} & set(policies)
