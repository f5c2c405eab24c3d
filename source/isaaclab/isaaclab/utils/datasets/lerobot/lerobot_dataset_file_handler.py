# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""A dataset file handler that writes LeRobot v3.0 datasets, with camera frames encoded into growing mp4 files."""

from __future__ import annotations

import os
import re
import threading
from fractions import Fraction

import av
import numpy as np
import pyarrow.parquet as pq
import torch

from ..dataset_file_handler_base import DatasetFileHandlerBase
from ..episode_data import EpisodeData
from .data_file import DataFileWriter, data_schema, episode_table
from .journal import Journal, iter_records
from .layout import ACTION, DATA_PATH, STATE, VIDEO_PATH, FeatureLayout, FileIndex, dataset_path
from .lerobot_dataset_cfg import LeRobotDatasetCfg
from .metadata import DatasetHeader, read_dataset_meta, write_metadata
from .stats import RunningStats, array_stats, image_stats, stats_to_json
from .video_file import Mp4VideoFile, VideoEncoder, resolve_encoder, write_template

_EPISODE_NAME = re.compile(r"^(?:demo|episode)_(\d+)$")


class LeRobotDatasetFileHandler(DatasetFileHandlerBase):
    """Writes (and reads back) a LeRobot v3.0 dataset: ``meta/``, ``data/`` parquet and ``videos/`` mp4 files.

    Use it as the recorder's :attr:`~isaaclab.managers.RecorderManagerBaseCfg.dataset_file_handler_class_type`, with
    a :class:`LeRobotDatasetCfg` as its ``dataset_file_handler_cfg``; the recorder's dataset path is then the
    dataset's folder. Each episode is written as it arrives, on the thread that calls :meth:`write_episode` (the
    recorder's writer thread with asynchronous export): its rows go to the data file being filled, its camera frames
    are encoded at the end of each camera's open mp4 file, and its statistics are added to the dataset's. Files are
    closed, and new ones started, at the configured sizes. Nothing is re-written to add an episode, and no frame is
    ever dropped.

    Until :meth:`close`, the folder holds a recovery journal: if the process dies, every episode whose
    :meth:`write_episode` returned is recovered by :func:`~isaaclab.utils.datasets.lerobot.recover_dataset`
    (``scripts/tools/recover_lerobot_dataset.py``).

    Episodes are numbered in the order they are written; a ``demo_id`` is not used. The handler's methods may be
    called from several threads.
    """

    def __init__(self, cfg: LeRobotDatasetCfg | None = None):
        """Initializes the handler.

        Args:
            cfg: The dataset's settings. Defaults to None, in which case the defaults of :class:`LeRobotDatasetCfg`
                are used.
        """
        self.cfg = cfg if cfg is not None else LeRobotDatasetCfg()
        self._lock = threading.RLock()
        self._root: str | None = None
        self._writing = False
        self._env_name: str | None = None
        self._env_args: dict = {}
        self._header: DatasetHeader | None = None
        self._journal: Journal | None = None
        self._encoders: dict[str, VideoEncoder] = {}
        self._schema = None
        self._data_index = FileIndex()
        self._data_file: DataFileWriter | None = None
        self._video_index: dict[str, FileIndex] = {}
        self._video_files: dict[str, Mp4VideoFile] = {}
        self._num_episodes = 0
        self._num_frames = 0
        self._stats = RunningStats()
        # an error that left the open files unusable: the dataset then takes no more episodes
        self._write_error: BaseException | None = None
        # complete episodes in each open video file
        self._episodes_in_video_file: dict[str, int] = {}
        # reading
        self._info: dict | None = None
        self._read_layout: FeatureLayout | None = None
        self._read_rows: list[dict] = []

    """
    Properties.
    """

    @property
    def file_path(self) -> str | None:
        """The dataset folder, or None."""
        return self._root

    @property
    def fps(self) -> int | None:
        """Frames per second (known once the first episode is written, or the dataset opened)."""
        with self._lock:
            if self._header is not None:
                return self._header.fps
            return None if self._info is None else self._info["fps"]

    """
    Operations.
    """

    def create(self, file_path: str, env_name: str | None = None):
        """Start a new dataset in a folder (created, with its parents, if missing).

        Args:
            file_path: The dataset folder. It must not exist, or be empty.
            env_name: The environment's name (the default task description).

        Raises:
            RuntimeError: If the handler already has a dataset.
            FileExistsError: If the path is a file, or a folder that is not empty (it is never deleted).
        """
        with self._lock:
            if self._root is not None:
                raise RuntimeError(f"The handler already has the dataset '{self._root}'.")
            if os.path.isfile(file_path):
                raise FileExistsError(f"Cannot create the LeRobot dataset '{file_path}': it is a file.")
            if os.path.isdir(file_path) and os.listdir(file_path):
                raise FileExistsError(
                    f"Cannot create the LeRobot dataset '{file_path}': the folder exists and is not empty. Choose"
                    " another path, or remove it yourself."
                )
            os.makedirs(file_path, exist_ok=True)
            self._journal = Journal(file_path)
            self._root = file_path
            self._env_name = env_name
            self._writing = True

    def open(self, file_path: str, mode: str = "r"):
        """Open a complete dataset for reading (:meth:`load_episode`).

        Raises:
            RuntimeError: If the handler already has a dataset.
            ValueError: If the mode is not ``"r"``.
            FileNotFoundError: If the folder is not a complete LeRobot dataset.
        """
        if mode != "r":
            raise ValueError(f"A LeRobot dataset opens for reading only (mode 'r'), got mode '{mode}'.")
        with self._lock:
            if self._root is not None:
                raise RuntimeError(f"The handler already has the dataset '{self._root}'.")
            info, isaaclab, episodes = read_dataset_meta(file_path)
            self._info = info
            self._read_rows = episodes
            self._num_episodes = len(episodes)
            self._env_name = isaaclab.get("env_name")
            self._env_args = isaaclab.get("env_args", {})
            layout = isaaclab.get("layout")
            self._read_layout = FeatureLayout.from_json(layout) if layout else None
            self._root = file_path

    def add_env_args(self, env_args: dict):
        """Merge environment arguments into the dataset's (stored in ``meta/isaaclab.json``).

        ``sim_args`` (``dt`` and ``decimation``) give the frame rate when :attr:`LeRobotDatasetCfg.fps` is not set.
        """
        with self._lock:
            self._env_args.update(env_args)
            if self._header is not None:
                self._header.env_args = dict(self._env_args)
                self._journal.write_header(self._header)

    def get_env_name(self) -> str | None:
        """The environment's name."""
        with self._lock:
            return self._env_name

    def get_episode_names(self) -> list[str]:
        """The episodes' names: ``demo_<episode index>``."""
        with self._lock:
            return [f"demo_{index}" for index in range(self._num_episodes)]

    def get_num_episodes(self) -> int:
        """The number of episodes written (or in the opened dataset)."""
        return self._num_episodes

    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True):
        """Add an episode to the dataset.

        When this returns, the episode's rows and encoded frames are in their files and the episode is recorded as
        complete in the recovery journal.

        Args:
            episode: The episode (its per-step lists are stacked in place).
            demo_id: Not used: LeRobot numbers episodes in the order they are written.
            dataset_compression: Not used: camera frames are always encoded as video.

        If writing fails midway (a full disk...), the episode is left out: the open data and video files are closed
        with the complete episodes only, and the next episode starts new ones.

        Raises:
            RuntimeError: If no dataset is being written, or the files could not be closed after an earlier failure
                (the dataset then keeps the episodes written before it; close it).
            KeyError: If a key of the dataset's layout is missing from the episode.
            ValueError: If the episode does not match the dataset's first episode (keys, shapes, dtypes), the frame
                rate is unknown or not a whole number, or the video encoder cannot be opened.
        """
        if episode.is_empty():
            return
        with self._lock:
            if not self._writing:
                raise RuntimeError("The LeRobot dataset is not open for writing: call create() first.")
            if self._write_error is not None:
                raise RuntimeError(
                    f"The LeRobot dataset '{self._root}' takes no more episodes: writing an earlier one failed"
                    f" ({type(self._write_error).__name__}: {self._write_error}). Close it to keep its"
                    f" {self._num_episodes} complete episodes."
                ) from self._write_error
            episode.pre_export()
            if self._header is None:
                self._start(episode.data)
            action, state, frames = self._header.layout.extract(episode.data)
            if len(action) == 0:
                return
            try:
                self._write(action, state, frames)
            except BaseException:
                self._close_open_files()
                raise

    def flush(self):
        """Nothing to do: each episode is handed to the OS by :meth:`write_episode`."""
        with self._lock:
            if self._root is None:
                raise RuntimeError("The LeRobot dataset handler has no dataset.")

    def close(self):
        """Finish the dataset: close the data and video files, write ``meta/`` and remove the recovery journal.

        Calling it again does nothing.

        Raises:
            RuntimeError: If the files could not be closed after a failed write (the recovery journal is kept).
        """
        with self._lock:
            if not self._writing:
                if self._info is not None:
                    self._root, self._info = None, None
                return
            self._writing = False
            if self._write_error is not None:
                raise RuntimeError(
                    f"The LeRobot dataset '{self._root}' could not be finished: its files could not be closed after"
                    f" a failed write ({type(self._write_error).__name__}: {self._write_error}). Its"
                    f" {self._num_episodes} complete episodes are in its recovery journal: run"
                    " scripts/tools/recover_lerobot_dataset.py on it."
                ) from self._write_error
            self._close_open_files()
            if self._header is not None:
                rows = (record["row"] for record in iter_records(self._journal.dir))
                write_metadata(self._root, self._header, rows, self._stats.to_json())
            self._journal.remove()

    def load_episode(self, episode_name: str, device: str = "cpu") -> EpisodeData | None:
        """Read an episode of an opened dataset back, its frames decoded.

        The action is stored under the layout's action key, each state term under its key (flattened, (T, size)),
        each camera under its key ((T, H, W, 3) uint8).

        Args:
            episode_name: ``demo_<index>`` (or ``episode_<index>``).
            device: Device of the tensors.

        Returns:
            The episode, or None if there is no episode of that name.

        Raises:
            RuntimeError: If no dataset is open for reading.
        """
        with self._lock:
            if self._info is None:
                raise RuntimeError("No LeRobot dataset is open for reading: call open() first.")
            match = _EPISODE_NAME.match(episode_name)
            if match is None or int(match.group(1)) >= len(self._read_rows):
                return None
            row = self._read_rows[int(match.group(1))]
            layout = self._read_layout
            fps = self._info["fps"]
            data_path = os.path.join(
                self._root, FileIndex(row["data/chunk_index"], row["data/file_index"]).path(DATA_PATH)
            )
            table = pq.read_table(data_path, filters=[("episode_index", "=", row["episode_index"])])
            data: dict = {}
            action = np.stack(table.column(ACTION).to_numpy(zero_copy_only=False))
            data[layout.action_key if layout else "actions"] = torch.tensor(action, device=device)
            if STATE in table.column_names and layout is not None:
                state = np.stack(table.column(STATE).to_numpy(zero_copy_only=False))
                for key, part in layout.split_state(state).items():
                    _insert(data, key, torch.tensor(part, device=device))
            for feature, key in (layout.cameras if layout else {}).items():
                index = FileIndex(row[f"videos/{feature}/chunk_index"], row[f"videos/{feature}/file_index"])
                path = os.path.join(self._root, index.path(VIDEO_PATH, video_key=feature))
                first = round(row[f"videos/{feature}/from_timestamp"] * fps)
                frames = decode_frames(path, first, row["length"], fps)
                _insert(data, key, torch.from_numpy(frames).to(device))
            episode = EpisodeData()
            episode.data = data
            episode.env_id = self._env_name
            return episode

    """
    Helpers.
    """

    def _start(self, data: dict) -> None:
        """Settle the dataset's layout, frame rate and encoders from its first episode."""
        layout = FeatureLayout.from_episode(data, self.cfg)
        fps = self._resolve_fps()
        video_info = {}
        for feature, (height, width, _) in layout.camera_shapes.items():
            encoder = resolve_encoder(self.cfg.video, width, height, fps)
            self._encoders[feature] = encoder
            write_template(self._journal.template_path(feature), encoder, width, height, fps)
            video_info[feature] = _video_info(self._journal.template_path(feature), encoder)
        self._header = DatasetHeader(
            fps=fps,
            layout=layout,
            task=self.cfg.task or self._env_name or "",
            env_name=self._env_name,
            env_args=dict(self._env_args),
            robot_type=self.cfg.robot_type,
            chunks_size=self.cfg.chunks_size,
            data_files_size_in_mb=self.cfg.data_files_size_in_mb,
            video_files_size_in_mb=self.cfg.video_files_size_in_mb,
            video_info=video_info,
        )
        self._schema = data_schema(layout.action_dim, layout.state_dim)
        self._journal.write_header(self._header)

    def _resolve_fps(self) -> int:
        fps = self.cfg.fps
        if fps is None:
            sim_args = self._env_args.get("sim_args", {})
            if "dt" not in sim_args or "decimation" not in sim_args:
                raise ValueError(
                    f"The frame rate of the LeRobot dataset '{self._root}' is unknown: set LeRobotDatasetCfg.fps, or"
                    " add the environment arguments ('sim_args' with 'dt' and 'decimation') before the first episode."
                )
            fps = 1.0 / (sim_args["dt"] * sim_args["decimation"])
        if fps <= 0 or abs(fps - round(fps)) > 1e-6 * fps:
            raise ValueError(
                f"LeRobot datasets need a whole number of frames per second, got {fps} for '{self._root}': set"
                " LeRobotDatasetCfg.fps."
            )
        return round(fps)

    def _write(self, action: np.ndarray, state: np.ndarray | None, frames: dict[str, np.ndarray]) -> None:
        """Write one episode's frames and rows, record it as complete, then roll over the files that are full."""
        header = self._header
        fps = header.fps
        episode_index = self._num_episodes
        num_frames = len(action)
        first_index = self._num_frames
        row = {"episode_index": episode_index, "tasks": [header.task], "length": num_frames}
        samples = {}
        for feature, images in frames.items():
            encoded = self._video_file(feature).add_episode(images)
            index = self._video_index[feature]
            row[f"videos/{feature}/chunk_index"] = index.chunk
            row[f"videos/{feature}/file_index"] = index.file
            row[f"videos/{feature}/from_timestamp"] = encoded.first_frame / fps
            row[f"videos/{feature}/to_timestamp"] = (encoded.first_frame + num_frames) / fps
            samples[feature] = encoded.samples
        if self._data_file is None:
            self._data_file = DataFileWriter(
                self._journal.data_stream_path(self._data_index),
                dataset_path(self._root, self._data_index.path(DATA_PATH)),
                self._schema,
            )
        self._data_file.append(episode_table(self._schema, action, state, fps, episode_index, first_index, 0))
        row["data/chunk_index"] = self._data_index.chunk
        row["data/file_index"] = self._data_index.file
        row["dataset_from_index"] = first_index
        row["dataset_to_index"] = first_index + num_frames
        row["meta/episodes/chunk_index"] = 0
        row["meta/episodes/file_index"] = 0
        stats = self._episode_stats(action, state, frames, episode_index, first_index)
        stats_json = stats_to_json(stats)
        for feature, feature_stats in stats_json.items():
            for name, value in feature_stats.items():
                row[f"stats/{feature}/{name}"] = value
        self._journal.commit(row, stats_json, samples)
        for feature in frames:
            self._episodes_in_video_file[feature] += 1
        self._num_episodes += 1
        self._num_frames += num_frames
        self._stats.add(stats)
        self._roll_over_full_files()

    def _video_file(self, feature: str) -> Mp4VideoFile:
        """The open mp4 file of a video feature (a new one is started if there is none)."""
        video_file = self._video_files.get(feature)
        if video_file is None:
            index = self._video_index.setdefault(feature, FileIndex())
            height, width, _ = self._header.layout.camera_shapes[feature]
            path = dataset_path(self._root, index.path(VIDEO_PATH, video_key=feature))
            video_file = Mp4VideoFile(path, self._encoders[feature], width, height, self._header.fps)
            self._video_files[feature] = video_file
            self._episodes_in_video_file[feature] = 0
        return video_file

    def _roll_over_full_files(self) -> None:
        """Close the data and video files that reached their size; the next episode starts new ones."""
        megabyte = 1024 * 1024
        if self._data_file is not None and self._data_file.size_bytes >= self.cfg.data_files_size_in_mb * megabyte:
            self._close_data_file()
        for feature, video_file in list(self._video_files.items()):
            if video_file.size_bytes >= self.cfg.video_files_size_in_mb * megabyte:
                self._close_video_file(feature)

    def _close_open_files(self) -> None:
        """Close the open data and video files with their complete episodes (after a failed write, or at close).

        A file that holds no complete episode is deleted. If closing fails, the dataset takes no more episodes.
        """
        try:
            if self._data_file is not None:
                self._close_data_file()
            for feature in list(self._video_files):
                self._close_video_file(feature)
        except BaseException as error:
            self._write_error = error
            raise

    def _close_data_file(self) -> None:
        data_file, self._data_file = self._data_file, None
        self._data_index = self._data_index.next(self.cfg.chunks_size)
        if data_file.finish(self._num_episodes) == 0:
            os.remove(data_file.parquet_path)

    def _close_video_file(self, feature: str) -> None:
        video_file = self._video_files.pop(feature)
        self._video_index[feature] = self._video_index[feature].next(self.cfg.chunks_size)
        video_file.close()
        if self._episodes_in_video_file.pop(feature) == 0:
            os.remove(video_file.path)

    def _episode_stats(
        self,
        action: np.ndarray,
        state: np.ndarray | None,
        frames: dict[str, np.ndarray],
        episode_index: int,
        first_index: int,
    ) -> dict[str, dict[str, np.ndarray]]:
        num_frames = len(action)
        frame_index = np.arange(num_frames, dtype=np.float64)[:, None]
        stats = {ACTION: array_stats(action)}
        if state is not None:
            stats[STATE] = array_stats(state)
        for feature, images in frames.items():
            stats[feature] = image_stats(images)
        stats["timestamp"] = array_stats(frame_index / self._header.fps)
        stats["frame_index"] = array_stats(frame_index)
        stats["episode_index"] = array_stats(np.full((num_frames, 1), episode_index, dtype=np.float64))
        stats["index"] = array_stats(frame_index + first_index)
        stats["task_index"] = array_stats(np.zeros((num_frames, 1)))
        return stats


def decode_frames(path: str, first_frame: int, num_frames: int, fps: int) -> np.ndarray:
    """Decode frames ``[first_frame, first_frame + num_frames)`` of an mp4 file as uint8 RGB (N, H, W, 3).

    Raises:
        ValueError: If the file holds fewer frames.
    """
    frames = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        time_base = stream.time_base
        container.seek(int(Fraction(first_frame, fps) / time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            index = round(frame.pts * time_base * fps)
            if index >= first_frame:
                frames.append(frame.to_ndarray(format="rgb24"))
            if index >= first_frame + num_frames - 1:
                break
    if len(frames) != num_frames:
        raise ValueError(f"'{path}' holds {len(frames)} of the frames {first_frame}-{first_frame + num_frames - 1}.")
    return np.stack(frames)


def _video_info(template_path: str, encoder: VideoEncoder) -> dict:
    """The ``info`` entries LeRobot keeps for a video feature, from a file encoded with its settings."""
    with av.open(template_path) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": stream.codec_context.pix_fmt,
            "video.is_depth_map": False,
            "video.channels": 3,
            "video.g": encoder.gop_size,
            "video.encoder": encoder.codec,
            "has_audio": False,
        }


def _insert(data: dict, key: str, value: torch.Tensor) -> None:
    *parents, leaf = key.split("/")
    node = data
    for name in parents:
        node = node.setdefault(name, {})
    node[leaf] = value
