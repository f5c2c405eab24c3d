# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Merging LeRobot datasets written by Isaac Lab (the shards of a distributed generation) into one."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .layout import DATA_PATH, VIDEO_PATH, FileIndex, dataset_path
from .metadata import DatasetHeader, read_dataset_meta, read_tasks, write_metadata
from .stats import RunningStats, array_stats, stats_from_json, stats_to_json


def merge_lerobot_datasets(sources: list[str], output: str, max_episodes: int | None = None) -> int:
    """Merge complete LeRobot datasets, in order, into a new one, renumbering their episodes and frames.

    Data files are rewritten with the new episode and frame indices, one output file per input file; video files are
    copied as they are (an episode keeps its place in its file). Episode statistics are adjusted and aggregated again.
    Only whole files are copied: with ``max_episodes``, a last file may hold frames of episodes left out.

    Args:
        sources: The dataset folders, each written by Isaac Lab's LeRobot handler with the same features, frame rate
            and task.
        output: The dataset folder to create (it must not exist, or be empty).
        max_episodes: Keep at most this many episodes. Defaults to None (all).

    Returns:
        The number of episodes merged.

    Raises:
        FileExistsError: If the output exists and is not empty.
        FileNotFoundError: If a source is not a complete LeRobot dataset.
        ValueError: If the sources differ in features, frame rate or task.
    """
    if os.path.isfile(output) or (os.path.isdir(output) and os.listdir(output)):
        raise FileExistsError(f"Cannot merge into '{output}': it exists and is not empty.")
    header, schema = None, None
    rows: list[dict] = []
    stats = RunningStats()
    data_index = FileIndex()
    video_index: dict[str, FileIndex] = {}
    for source in sources:
        info, isaaclab, episodes = read_dataset_meta(source)
        source_header = DatasetHeader.from_dataset(info, isaaclab, read_tasks(source))
        if header is None:
            header = source_header
        else:
            _check_compatible(header, source_header, source)
        if max_episodes is not None:
            episodes = episodes[: max(0, max_episodes - len(rows))]
        if not episodes:
            continue
        episode_offset, frame_offset = len(rows), rows[-1]["dataset_to_index"] if rows else 0
        new_data_files = {}
        for key in sorted({(row["data/chunk_index"], row["data/file_index"]) for row in episodes}):
            table = pq.read_table(os.path.join(source, FileIndex(*key).path(DATA_PATH)))
            table = table.filter(pc.less(table.column("episode_index"), len(episodes)))
            table = _renumber(table, episode_offset, frame_offset)
            schema = schema or table.schema
            pq.write_table(table.cast(schema), dataset_path(output, data_index.path(DATA_PATH)))
            new_data_files[key] = data_index
            data_index = data_index.next(header.chunks_size)
        new_video_files = {}
        for feature in header.layout.cameras:
            for key in sorted({_video_file(row, feature) for row in episodes}):
                target = video_index.get(feature, FileIndex())
                shutil.copyfile(
                    os.path.join(source, FileIndex(*key).path(VIDEO_PATH, video_key=feature)),
                    dataset_path(output, target.path(VIDEO_PATH, video_key=feature)),
                )
                new_video_files[feature, key] = target
                video_index[feature] = target.next(header.chunks_size)
        for row in episodes:
            row = _renumbered_row(row, episode_offset, frame_offset, new_data_files, new_video_files)
            stats.add(_row_stats(row))
            rows.append(row)
    if header is None:
        raise ValueError("No dataset to merge.")
    write_metadata(output, header, iter(rows), stats.to_json())
    return len(rows)


def _check_compatible(header: DatasetHeader, other: DatasetHeader, source: str) -> None:
    for name in ("fps", "task"):
        if getattr(header, name) != getattr(other, name):
            raise ValueError(
                f"Cannot merge '{source}': its {name} is {getattr(other, name)!r}, the first dataset's is"
                f" {getattr(header, name)!r}."
            )
    features, other_features = header.layout.features(header.fps, {}), other.layout.features(other.fps, {})
    if features != other_features:
        differ = sorted(
            name for name in features.keys() | other_features.keys() if features.get(name) != other_features.get(name)
        )
        raise ValueError(f"Cannot merge '{source}': its features {differ} differ from the first dataset's.")


def _renumber(table: pa.Table, episode_offset: int, frame_offset: int) -> pa.Table:
    for column, offset in (("episode_index", episode_offset), ("index", frame_offset)):
        position = table.schema.get_field_index(column)
        table = table.set_column(position, column, pc.add(table.column(column), offset))
    return table


def _video_file(row: dict, feature: str) -> tuple[int, int]:
    return row[f"videos/{feature}/chunk_index"], row[f"videos/{feature}/file_index"]


def _renumbered_row(
    row: dict,
    episode_offset: int,
    frame_offset: int,
    data_files: dict[tuple[int, int], FileIndex],
    video_files: dict[tuple[str, tuple[int, int]], FileIndex],
) -> dict:
    """An episode's row with its new index, frames and files, and its index statistics made again."""
    original, row = row, dict(row)
    row["episode_index"] += episode_offset
    row["dataset_from_index"] += frame_offset
    row["dataset_to_index"] += frame_offset
    data_file = data_files[row["data/chunk_index"], row["data/file_index"]]
    row["data/chunk_index"], row["data/file_index"] = data_file.chunk, data_file.file
    for (feature, key), video_file in video_files.items():
        if _video_file(original, feature) == key:
            row[f"videos/{feature}/chunk_index"], row[f"videos/{feature}/file_index"] = (
                video_file.chunk,
                video_file.file,
            )
    length = row["length"]
    index_stats = {
        "episode_index": array_stats(np.full((length, 1), row["episode_index"], dtype=np.float64)),
        "index": array_stats(np.arange(row["dataset_from_index"], row["dataset_to_index"], dtype=np.float64)[:, None]),
    }
    for feature, feature_stats in stats_to_json(index_stats).items():
        for name, value in feature_stats.items():
            row[f"stats/{feature}/{name}"] = value
    return row


def _row_stats(row: dict) -> dict[str, dict[str, np.ndarray]]:
    """An episode's statistics, from its row's ``stats/<feature>/<name>`` columns."""
    stats: dict[str, dict[str, list]] = {}
    for column, value in row.items():
        if column.startswith("stats/"):
            feature, name = column[len("stats/") :].rsplit("/", 1)
            stats.setdefault(feature, {})[name] = value
    return stats_from_json(stats)
