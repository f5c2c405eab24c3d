# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The per-frame rows of a LeRobot dataset: one growing data file at a time, made into parquet when it is full.

A parquet file is readable only once its footer is written, so the rows of the data file being filled go, episode by
episode, to an Arrow IPC stream in the recovery journal: every whole episode written to it can be read back after a
crash. When the file is full, or the dataset is closed (or recovered), the stream becomes the parquet file with one
row group per episode, reading one episode at a time.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .layout import ACTION, STATE


def data_schema(action_dim: int, state_dim: int) -> pa.Schema:
    """The schema of the data files: action and state as fixed-size float32 lists, then the index columns."""
    fields = [pa.field(ACTION, pa.list_(pa.float32(), action_dim))]
    if state_dim:
        fields.append(pa.field(STATE, pa.list_(pa.float32(), state_dim)))
    fields += [
        pa.field("timestamp", pa.float32()),
        pa.field("frame_index", pa.int64()),
        pa.field("episode_index", pa.int64()),
        pa.field("index", pa.int64()),
        pa.field("task_index", pa.int64()),
    ]
    return pa.schema(fields)


def episode_table(
    schema: pa.Schema,
    action: np.ndarray,
    state: np.ndarray | None,
    fps: int,
    episode_index: int,
    first_index: int,
    task_index: int,
) -> pa.Table:
    """The rows of one episode."""
    num_frames = len(action)
    frame_index = np.arange(num_frames, dtype=np.int64)
    columns = {ACTION: _fixed_size_list(action)}
    if state is not None:
        columns[STATE] = _fixed_size_list(state)
    columns["timestamp"] = pa.array((frame_index / fps).astype(np.float32))
    columns["frame_index"] = pa.array(frame_index)
    columns["episode_index"] = pa.array(np.full(num_frames, episode_index, dtype=np.int64))
    columns["index"] = pa.array(frame_index + first_index)
    columns["task_index"] = pa.array(np.full(num_frames, task_index, dtype=np.int64))
    return pa.Table.from_pydict(columns, schema=schema)


class DataFileWriter:
    """The data file being filled: its rows appended, episode by episode, to an Arrow IPC stream."""

    def __init__(self, stream_path: str, parquet_path: str, schema: pa.Schema):
        """Start the stream (it must not exist)."""
        self.stream_path = stream_path
        self.parquet_path = parquet_path
        self._file = open(stream_path, "xb")  # noqa: SIM115 - stays open for the object's life
        self._writer = pa.ipc.new_stream(self._file, schema)

    @property
    def size_bytes(self) -> int:
        """Bytes of rows so far (uncompressed: the parquet file will be smaller)."""
        return self._file.tell()

    def append(self, table: pa.Table) -> None:
        """Append an episode's rows and hand them to the OS."""
        self._writer.write_table(table)
        self._file.flush()

    def finish(self, num_episodes: int) -> int:
        """Close the stream and make it the parquet file, with the rows of the episodes of smaller index (the rows
        of an episode whose writing failed are left out).

        Returns:
            The number of rows in the parquet file.
        """
        self._writer.close()
        self._file.close()
        return finish_data_file(self.stream_path, self.parquet_path, num_episodes)


def finish_data_file(stream_path: str, parquet_path: str, num_episodes: int | None = None) -> int:
    """Make an Arrow IPC stream of rows into a parquet file, one row group per episode, then delete the stream.

    A stream cut short by a crash is read up to its last whole batch.

    Args:
        stream_path: The stream.
        parquet_path: The parquet file to write (replaced if it exists).
        num_episodes: Keep only the rows of the episodes with a smaller index. Defaults to None (keep every row).

    Returns:
        The number of rows written.
    """
    temporary_path = parquet_path + ".tmp"
    num_rows = 0
    with open(stream_path, "rb") as source:
        reader = pa.ipc.open_stream(source)
        with pq.ParquetWriter(temporary_path, reader.schema) as writer:
            for batch in _whole_batches(reader):
                if num_episodes is not None:
                    batch = batch.filter(pc.less(batch.column("episode_index"), num_episodes))
                if batch.num_rows:
                    writer.write_batch(batch)
                    num_rows += batch.num_rows
    os.replace(temporary_path, parquet_path)
    os.remove(stream_path)
    return num_rows


def _whole_batches(reader: pa.ipc.RecordBatchStreamReader):
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, OSError):  # the stream ends in a batch cut short
            return


def _fixed_size_list(values: np.ndarray) -> pa.FixedSizeListArray:
    values = np.ascontiguousarray(values, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])
