# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The ``meta/`` files of a LeRobot v3.0 dataset: info, statistics, tasks and the episodes table."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .layout import (
    CODEBASE_VERSION,
    DATA_PATH,
    EPISODES_PATH,
    INFO_PATH,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_PATH,
    FeatureLayout,
    FileIndex,
    dataset_path,
)

EPISODES_BATCH = 1000
"""Rows of the episodes table converted and written at a time."""

ISAACLAB_PATH = "meta/isaaclab.json"
"""Isaac Lab's own metadata: the environment name and arguments, and which episode keys each feature holds."""


@dataclass
class DatasetHeader:
    """What a dataset's metadata needs beyond its episodes: settled when its first episode is written."""

    fps: int
    layout: FeatureLayout
    task: str
    env_name: str | None = None
    env_args: dict = field(default_factory=dict)
    robot_type: str | None = None
    chunks_size: int = 1000
    data_files_size_in_mb: float = 100.0
    video_files_size_in_mb: float = 200.0
    video_info: dict[str, dict] = field(default_factory=dict)
    """Per video feature, the ``info`` of its stream (codec, pixel format, size...)."""

    def to_json(self) -> dict:
        """The header as a JSON-serializable dict."""
        value = dict(self.__dict__)
        value["layout"] = self.layout.to_json()
        return value

    @classmethod
    def from_json(cls, value: dict) -> DatasetHeader:
        """The header from :meth:`to_json`'s dict."""
        return cls(**{**value, "layout": FeatureLayout.from_json(value["layout"])})

    @classmethod
    def from_dataset(cls, info: dict, isaaclab: dict, tasks: list[str]) -> DatasetHeader:
        """The header of a complete dataset, from its ``info.json``, Isaac Lab's metadata and its task strings.

        Raises:
            ValueError: If the dataset was not written by Isaac Lab (no layout in ``meta/isaaclab.json``) or has
                more than one task.
        """
        if "layout" not in isaaclab or len(tasks) != 1:
            raise ValueError("only datasets written by Isaac Lab's LeRobot handler, with one task, can be merged")
        video_info = {
            name: {key: value for key, value in feature.get("info", {}).items() if key != "video.fps"}
            for name, feature in info["features"].items()
            if feature["dtype"] == "video"
        }
        return cls(
            fps=info["fps"],
            layout=FeatureLayout.from_json(isaaclab["layout"]),
            task=tasks[0],
            env_name=isaaclab.get("env_name"),
            env_args=isaaclab.get("env_args", {}),
            robot_type=info.get("robot_type"),
            chunks_size=info["chunks_size"],
            data_files_size_in_mb=info["data_files_size_in_mb"],
            video_files_size_in_mb=info["video_files_size_in_mb"],
            video_info=video_info,
        )


def write_json(path: str, value: Any) -> None:
    """Write a JSON file atomically (a reader, or a crash, never sees half of it)."""
    temporary_path = path + ".tmp"
    with open(temporary_path, "w") as file:
        json.dump(value, file, indent=4)
    os.replace(temporary_path, path)


def write_metadata(root: str, header: DatasetHeader, episodes: Iterable[dict], stats: dict) -> int:
    """Write every file of ``meta/``: the episodes table, info, statistics, tasks and Isaac Lab's own metadata.

    Args:
        root: The dataset folder.
        header: The dataset's settings.
        episodes: One row per episode (as the episodes table holds them), in episode order; read once, a batch of
            rows at a time.
        stats: The aggregated statistics (``meta/stats.json``).

    Returns:
        The number of episodes.
    """
    num_episodes = total_frames = 0
    episodes_path = dataset_path(root, FileIndex().path(EPISODES_PATH))
    writer = None
    try:
        for batch in _batches(episodes, EPISODES_BATCH):
            table = pa.Table.from_pylist(batch, schema=None if writer is None else writer.schema)
            if writer is None:
                writer = pq.ParquetWriter(episodes_path + ".tmp", table.schema)
            writer.write_table(table)
            num_episodes += len(batch)
            total_frames += sum(row["length"] for row in batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is not None:
        os.replace(episodes_path + ".tmp", episodes_path)
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": header.robot_type,
        "total_episodes": num_episodes,
        "total_frames": total_frames,
        "total_tasks": 1,
        "chunks_size": header.chunks_size,
        "data_files_size_in_mb": header.data_files_size_in_mb,
        "video_files_size_in_mb": header.video_files_size_in_mb,
        "fps": header.fps,
        "splits": {"train": f"0:{num_episodes}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if header.layout.cameras else None,
        "features": header.layout.features(header.fps, header.video_info),
    }
    write_json(dataset_path(root, STATS_PATH), stats)
    write_tasks(dataset_path(root, TASKS_PATH), [header.task])
    isaaclab = {"env_name": header.env_name, "env_args": header.env_args, "layout": header.layout.to_json()}
    write_json(dataset_path(root, ISAACLAB_PATH), isaaclab)
    # written last: a folder with an info.json is a complete dataset
    write_json(dataset_path(root, INFO_PATH), info)
    return num_episodes


def write_tasks(path: str, tasks: list[str]) -> None:
    """Write the tasks table: the task strings as the (pandas) index ``task``, and their ``task_index``.

    LeRobot reads it with pandas, and looks tasks up by the index, so the file carries pandas' metadata for it.
    """
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())})
    pandas_metadata = {
        "index_columns": ["task"],
        "column_indexes": [
            {"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object", "metadata": None}
        ],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.0",
    }
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_metadata).encode()})
    pq.write_table(table, path + ".tmp")
    os.replace(path + ".tmp", path)


def read_tasks(root: str) -> list[str]:
    """The task strings of a dataset, in task index order."""
    table = pq.read_table(os.path.join(root, TASKS_PATH))
    order = sorted(range(table.num_rows), key=table.column("task_index").to_pylist().__getitem__)
    tasks = table.column("task").to_pylist()
    return [tasks[index] for index in order]


def read_dataset_meta(root: str) -> tuple[dict, dict, list[dict]]:
    """The ``meta/info.json``, Isaac Lab's metadata and the episodes table (one dict per episode) of a dataset.

    Raises:
        FileNotFoundError: If the folder has no ``meta/info.json`` (it is not a LeRobot dataset, or it was not
            closed: recover it first).
    """
    info_path = os.path.join(root, INFO_PATH)
    if not os.path.isfile(info_path):
        raise FileNotFoundError(
            f"'{root}' is not a LeRobot dataset: it has no {INFO_PATH} (if it was being written when its process"
            " died, recover it with scripts/tools/recover_lerobot_dataset.py)."
        )
    with open(info_path) as file:
        info = json.load(file)
    isaaclab = {}
    if os.path.isfile(os.path.join(root, ISAACLAB_PATH)):
        with open(os.path.join(root, ISAACLAB_PATH)) as file:
            isaaclab = json.load(file)
    episodes = []
    episodes_dir = os.path.join(root, "meta", "episodes")
    for chunk in sorted(os.listdir(episodes_dir)) if os.path.isdir(episodes_dir) else []:
        for name in sorted(os.listdir(os.path.join(episodes_dir, chunk))):
            if name.endswith(".parquet"):
                episodes += pq.read_table(os.path.join(episodes_dir, chunk, name)).to_pylist()
    episodes.sort(key=lambda row: row["episode_index"])
    return info, isaaclab, episodes


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
