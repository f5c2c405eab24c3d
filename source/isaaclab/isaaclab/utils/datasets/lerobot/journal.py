# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The recovery journal of a LeRobot dataset being written, and the recovery of a dataset whose writer died.

While a dataset is written, its folder holds ``.recovery/`` with:

* ``header.json``: the dataset's settings (:class:`~.metadata.DatasetHeader`), written with the first episode;
* ``episodes.jsonl``: one line per complete episode, appended once all of its rows and frames are in their files:
  the episode's row of the episodes table, its statistics and the byte ranges of its encoded frames;
* ``data-CCC-FFF.arrows``: the rows of the data file being filled (see :mod:`.data_file`);
* ``<video feature>.template.mp4``: the codec parameters of each video feature's files.

A line in ``episodes.jsonl`` is what makes an episode complete. :func:`recover_dataset` rebuilds a readable dataset
from the complete episodes, and drops whatever was written after the last one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator

from .data_file import finish_data_file
from .layout import DATA_PATH, JOURNAL_DIR, VIDEO_PATH, FileIndex, dataset_path
from .metadata import DatasetHeader, write_json, write_metadata
from .stats import RunningStats, stats_from_json
from .video_file import is_readable_mp4, rebuild_mp4

_DATA_STREAM = re.compile(r"^data-(\d+)-(\d+)\.arrows$")


class Journal:
    """The journal of a dataset being written (see the module's description). Not thread-safe."""

    def __init__(self, root: str):
        """Start the journal of a new dataset folder."""
        self.dir = os.path.join(root, JOURNAL_DIR)
        os.makedirs(self.dir)
        self._episodes = open(os.path.join(self.dir, "episodes.jsonl"), "a")  # noqa: SIM115 - stays open for the object's life

    def write_header(self, header: DatasetHeader) -> None:
        """Write (or replace) the dataset's settings."""
        write_json(os.path.join(self.dir, "header.json"), header.to_json())

    def template_path(self, feature: str) -> str:
        """The codec template file of a video feature."""
        return os.path.join(self.dir, f"{feature}.template.mp4")

    def data_stream_path(self, index: FileIndex) -> str:
        """The row stream of a data file."""
        return os.path.join(self.dir, f"data-{index.chunk:03d}-{index.file:03d}.arrows")

    def commit(self, row: dict, stats: dict, samples: dict[str, list[list[int]]]) -> None:
        """Record an episode as complete (its rows and frames are in their files) and hand the line to the OS."""
        self._episodes.write(json.dumps({"row": row, "stats": stats, "samples": samples}) + "\n")
        self._episodes.flush()

    def remove(self) -> None:
        """Delete the journal (the dataset is complete)."""
        self._episodes.close()
        shutil.rmtree(self.dir)


def read_header(journal_dir: str) -> DatasetHeader | None:
    """The dataset's settings in a journal, or None if no episode was started."""
    header_path = os.path.join(journal_dir, "header.json")
    if not os.path.isfile(header_path):
        return None
    with open(header_path) as file:
        return DatasetHeader.from_json(json.load(file))


def iter_records(journal_dir: str) -> Iterator[dict]:
    """The complete episodes recorded in a journal, in order (a line cut short by a crash is not one)."""
    path = os.path.join(journal_dir, "episodes.jsonl")
    if not os.path.isfile(path):
        return
    with open(path) as file:
        for line in file:
            if not line.endswith("\n"):
                return  # the line being written when the process died
            yield json.loads(line)


def recover_dataset(root: str) -> int:
    """Make a dataset whose writing process died into a complete, readable dataset of its complete episodes.

    The data file and the video files that were open are rebuilt from the episodes recorded as complete in the
    journal; rows and frames written after the last complete episode, and files that hold nothing else, are dropped.
    Then the metadata is written and the journal removed. The journal is read episode by episode.

    Args:
        root: The dataset folder.

    Returns:
        The number of episodes in the recovered dataset.

    Raises:
        FileNotFoundError: If the folder has no journal.
    """
    journal_dir = os.path.join(root, JOURNAL_DIR)
    if not os.path.isdir(journal_dir):
        raise FileNotFoundError(
            f"'{root}' has no recovery journal ({JOURNAL_DIR}/): it was closed properly, or it is not a LeRobot"
            " dataset written by Isaac Lab."
        )
    header = read_header(journal_dir)
    if header is None:
        shutil.rmtree(journal_dir)
        return 0
    num_episodes = 0
    stats = RunningStats()
    kept: set[str] = set()
    readable: dict[str, bool] = {}
    to_rebuild: dict[str, tuple[str, list[list[int]]]] = {}
    for record in iter_records(journal_dir):
        num_episodes += 1
        row = record["row"]
        stats.add(stats_from_json(record["stats"]))
        kept.add(FileIndex(row["data/chunk_index"], row["data/file_index"]).path(DATA_PATH))
        for feature, samples in record["samples"].items():
            index = FileIndex(row[f"videos/{feature}/chunk_index"], row[f"videos/{feature}/file_index"])
            path = index.path(VIDEO_PATH, video_key=feature)
            kept.add(path)
            if path not in readable:
                readable[path] = is_readable_mp4(os.path.join(root, path))
            if not readable[path]:
                to_rebuild.setdefault(path, (feature, []))[1].extend(samples)
    for name in sorted(os.listdir(journal_dir)):
        match = _DATA_STREAM.match(name)
        if match:
            index = FileIndex(int(match.group(1)), int(match.group(2)))
            finish_data_file(
                os.path.join(journal_dir, name), dataset_path(root, index.path(DATA_PATH)), num_episodes=num_episodes
            )
    for path, (feature, samples) in to_rebuild.items():
        full_path = os.path.join(root, path)
        rebuilt_path = full_path + ".rebuilt"
        if os.path.exists(rebuilt_path):
            os.remove(rebuilt_path)
        template = os.path.join(journal_dir, f"{feature}.template.mp4")
        rebuild_mp4(full_path, template, samples, header.fps, rebuilt_path)
        os.replace(rebuilt_path, full_path)
    _remove_unlisted_files(root, kept)
    rows = (record["row"] for record in iter_records(journal_dir))
    write_metadata(root, header, rows, stats.to_json())
    shutil.rmtree(journal_dir)
    return num_episodes


def _remove_unlisted_files(root: str, kept: set[str]) -> None:
    """Delete the data and video files that hold no complete episode."""
    for folder in ("data", "videos"):
        for directory, _, names in os.walk(os.path.join(root, folder)):
            for name in names:
                path = os.path.relpath(os.path.join(directory, name), root)
                if path not in kept:
                    os.remove(os.path.join(root, path))
