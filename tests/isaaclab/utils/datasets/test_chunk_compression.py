# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Tests of the HDF5 handler's compression: whole-row chunks, standard deflate any reader opens (ISA-L or zlib),
the same file whatever the thread count, and no thread at all unless asked for."""

import threading
import zlib

import h5py
import numpy as np
import pytest
import torch

from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler
from isaaclab.utils.datasets.chunk_compression import CHUNK_BYTES, ChunkCompressor, deflate, isal_zlib

pytestmark = pytest.mark.unit


def _episode(arrays: dict[str, np.ndarray]) -> EpisodeData:
    episode = EpisodeData()
    episode.data = {key: torch.from_numpy(value) for key, value in arrays.items()}
    return episode


def _write(path, arrays: dict[str, np.ndarray], codec: str = "gzip", level: int = 2, threads: int = 1) -> None:
    handler = HDF5DatasetFileHandler()
    handler.configure_compression(codec, level, threads)
    handler.create(str(path))
    handler.write_episode(_episode(arrays))
    handler.close()


def _frames(count: int, size: int) -> np.ndarray:
    """Camera-like frames: smooth gradients that move, with some noise (compressible, not trivially)."""
    rng = np.random.default_rng(0)
    base = np.add.outer(np.arange(size), np.arange(size))[..., None] + np.arange(3)
    frames = np.stack([(base + 3 * step) % 256 for step in range(count)])
    return (frames + rng.integers(0, 4, frames.shape)).astype(np.uint8)


def test_datasets_are_chunked_by_whole_rows_of_about_chunk_bytes(tmp_path):
    arrays = {
        "cam84": _frames(40, 84),
        "cam256": _frames(3, 256),
        "state": np.random.default_rng(1).random((300, 7), dtype=np.float32),
        "long_state": np.zeros((20000, 7), dtype=np.float32),
    }
    _write(tmp_path / "d.hdf5", arrays)
    with h5py.File(tmp_path / "d.hdf5", "r") as file:
        demo = file["data/demo_0"]
        assert demo["cam84"].chunks == (CHUNK_BYTES // (84 * 84 * 3), 84, 84, 3) == (12, 84, 84, 3)
        assert demo["cam256"].chunks == (1, 256, 256, 3)  # a frame larger than the aim is a chunk of its own
        assert demo["state"].chunks == (300, 7)  # a short state is one chunk
        assert demo["long_state"].chunks == (CHUNK_BYTES // 28, 7)
        for key, value in arrays.items():
            assert demo[key].compression == "gzip" and demo[key].compression_opts == 2
            np.testing.assert_array_equal(demo[key][()], value)


@pytest.mark.parametrize("codec", ["gzip", "lzf", "none"])
@pytest.mark.parametrize(
    "dtype", [np.uint8, np.bool_, np.int16, np.int64, np.float16, np.float32, np.float64, np.complex64]
)
def test_every_dtype_reads_back_with_plain_h5py(tmp_path, codec, dtype):
    values = (np.random.default_rng(2).random((37, 5, 3)) * 100).astype(dtype)
    arrays = {"x": values, "empty": np.zeros((0, 4), dtype=dtype), "scalar": np.array(7, dtype=dtype)}
    _write(tmp_path / "d.hdf5", arrays, codec=codec)
    with h5py.File(tmp_path / "d.hdf5", "r") as file:
        demo = file["data/demo_0"]
        for key, value in arrays.items():
            np.testing.assert_array_equal(demo[key][()], value)
        assert demo["x"].compression == (None if codec == "none" else codec)
        # empty and scalar datasets are written as they are, unchunked
        assert demo["empty"].chunks is None and demo["scalar"].chunks is None
        if codec == "none":
            assert demo["x"].chunks is None  # uncompressed datasets stay contiguous, as Isaac Lab writes them


def test_the_file_is_the_same_whatever_the_number_of_threads(tmp_path):
    arrays = {"cam": _frames(60, 84), "state": np.arange(600, dtype=np.float32).reshape(100, 6)}
    sizes = []
    for threads in (1, 3):
        path = tmp_path / f"threads_{threads}.hdf5"
        _write(path, arrays, threads=threads)
        with h5py.File(path, "r") as file:
            demo = file["data/demo_0"]
            sizes.append({key: demo[key].id.get_storage_size() for key in arrays})
            for key, value in arrays.items():
                np.testing.assert_array_equal(demo[key][()], value)
    assert sizes[0] == sizes[1]


def test_chunks_are_standard_deflate_streams_from_isal_when_installed():
    data = memoryview(_frames(12, 84).reshape(-1))
    compressed = deflate(data, 2)
    assert zlib.decompress(compressed) == data.tobytes()
    if isal_zlib is None:
        assert compressed == zlib.compress(data, 2)
    else:
        assert compressed == isal_zlib.compress(data, 2)
    # level 0 stores the bytes, as zlib does
    assert deflate(data, 0) == zlib.compress(data, 0)


def test_compressor_keeps_chunk_order_and_pads_the_last_chunk():
    array = np.arange(25 * 100, dtype=np.int64).reshape(25, 100)  # 800 B rows, fewer than a chunk holds: one chunk
    frames = _frames(30, 84)  # 12 frames a chunk: 12, 12, 6 (padded)
    compressed = ChunkCompressor(2, 4).compress([array, frames])
    assert len(compressed[0]) == 1 and len(compressed[1]) == 3
    assert zlib.decompress(compressed[0][0]) == array.tobytes()
    last = np.zeros((12, 84, 84, 3), dtype=np.uint8)
    last[:6] = frames[24:]
    assert [zlib.decompress(chunk) for chunk in compressed[1]] == [
        frames[:12].tobytes(),
        frames[12:24].tobytes(),
        last.tobytes(),
    ]


@pytest.mark.parametrize(
    "codec, level, threads, message",
    [
        ("zstd", 2, 1, "Unknown dataset compression codec 'zstd'"),
        ("gzip", 10, 1, "level must be an integer in 0-9, got 10"),
        ("gzip", 2.5, 1, "got 2.5"),
        ("gzip", 2, 0, "compression threads must be a positive integer, got 0"),
        ("gzip", 2, True, "got True"),
    ],
)
def test_bad_compression_settings_are_refused(codec, level, threads, message):
    with pytest.raises(ValueError, match=message):
        HDF5DatasetFileHandler().configure_compression(codec, level, threads)


def test_a_handler_with_one_thread_starts_no_thread(tmp_path):
    before = threading.active_count()
    _write(tmp_path / "d.hdf5", {"cam": _frames(30, 84)}, threads=1)
    assert threading.active_count() == before
