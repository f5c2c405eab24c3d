# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Compressing HDF5 dataset chunks outside of HDF5, with few calls and little time under the GIL.

Every dataset is chunked by whole rows (whole camera frames), about :data:`CHUNK_BYTES` a chunk. gzip chunks are
deflated here, with ISA-L (the ``isal`` package) when it is installed, else with :mod:`zlib`; both release the GIL
while they compress, on the writing thread or a few pool threads. The bytes go to the file with HDF5's direct chunk
write, under HDF5's standard deflate filter: any HDF5 reader opens the files, with no plugin.
"""

from __future__ import annotations

import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:
    from isal import isal_zlib
except ImportError:  # ISA-L is optional: zlib writes the same format, slower
    isal_zlib = None

CHUNK_BYTES = 256 * 1024
"""The size a chunk aims for: as many whole rows as fit (at least one)."""

COMPRESSION_CODECS = ("gzip", "lzf", "none")
"""The codecs a dataset can be written with: gzip (levels 0-9), lzf (compressed by HDF5), none."""

ISAL_LEVELS = (None, 1, 2, 2, 2, 2, 3, 3, 3, 3)
"""The ISA-L level that stands in for each gzip level (ISA-L has 0-3); level 0 stores the data, as zlib does."""


def default_compression_threads(asynchronous: bool) -> int:
    """The number of compression threads when none is asked for.

    One (no pool: the writing thread compresses) when the caller waits for the write, as HDF5 itself does; every core
    but one when the write runs beside the simulation loop, which keeps a core of its own.

    Args:
        asynchronous: Whether the writes run on a background thread beside the simulation loop.
    """
    return max(1, (os.cpu_count() or 1) - 1) if asynchronous else 1


def check_compression(codec: str, level: int, threads: int) -> None:
    """Check compression settings.

    Raises:
        ValueError: If the codec is unknown, the level is not an integer in 0-9, or the thread count is not a
            positive integer.
    """
    if codec not in COMPRESSION_CODECS:
        raise ValueError(
            f"Unknown dataset compression codec {codec!r}: expected one of {', '.join(COMPRESSION_CODECS)}."
        )
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 0 <= level <= 9:
        raise ValueError(f"The dataset compression level must be an integer in 0-9, got {level!r}.")
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"The number of compression threads must be a positive integer, got {threads!r}.")


def chunk_rows(array: np.ndarray) -> int:
    """The rows (first-axis entries) of a chunk of ``array``: whole rows, about :data:`CHUNK_BYTES`."""
    row_bytes = max(1, array.nbytes // max(1, len(array)))
    return max(1, min(len(array), CHUNK_BYTES // row_bytes))


def deflate(data: memoryview, level: int) -> bytes:
    """The zlib stream (deflate with zlib's header, as HDF5's deflate filter stores it) of ``data``."""
    if isal_zlib is None or ISAL_LEVELS[level] is None:
        return zlib.compress(data, level)
    return isal_zlib.compress(data, ISAL_LEVELS[level])


class ChunkCompressor:
    """Deflates the chunks of whole arrays on the calling thread and, if asked for, a pool of threads."""

    def __init__(self, level: int, threads: int) -> None:
        """Create a compressor (a pool starts on first use, and only for more than one thread).

        Args:
            level: The gzip level, 0-9.
            threads: The number of threads that compress, the calling one included.
        """
        check_compression("gzip", level, threads)
        self._level = level
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def threads(self) -> int:
        """The number of threads that compress, the calling one included."""
        return self._threads

    def compress(self, arrays: list[np.ndarray]) -> list[list[bytes]]:
        """The deflated chunks of each array, first axis cut every :func:`chunk_rows` rows; the last chunk of an array
        is padded with zeros to the full chunk shape, as HDF5 stores it.

        Args:
            arrays: C-contiguous arrays, each with at least one row.

        Returns:
            For each array, its compressed chunks in order.
        """
        pieces = [(index, piece) for index, array in enumerate(arrays) for piece in _chunks(array)]
        # one task per thread over every n-th chunk, the calling thread taking the first share
        shares = [pieces[start :: self._threads] for start in range(min(self._threads, len(pieces)))]
        futures = []
        if len(shares) > 1:
            try:
                futures = [self._executor().submit(self._deflate, share) for share in shares[1:]]
            except RuntimeError:
                # the interpreter is exiting (a program that ended without closing its recorder): no new thread
                # can start, so this thread compresses every chunk
                shares = [pieces]
        results = [self._deflate(shares[0])] + [future.result() for future in futures]
        # share s holds pieces s, s + n, s + 2n, ...: put them back in order
        in_order: list[bytes] = [b""] * len(pieces)
        for start, result in enumerate(results):
            in_order[start :: len(shares)] = result
        compressed: list[list[bytes]] = [[] for _ in arrays]
        for (index, _), data in zip(pieces, in_order):
            compressed[index].append(data)
        return compressed

    def shutdown(self) -> None:
        """Stop the pool's threads (a later write starts them again)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _deflate(self, pieces: list[tuple[int, np.ndarray]]) -> list[bytes]:
        return [deflate(memoryview(piece.reshape(-1).view(np.uint8)), self._level) for _, piece in pieces]

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # the pool's threads start from the submitting thread and inherit its scheduling priority (lowered on
                # a background writer thread, not on a caller that waits for the write)
                self._pool = ThreadPoolExecutor(max_workers=self._threads - 1, thread_name_prefix="isaaclab-compress")
            return self._pool


def _chunks(array: np.ndarray) -> list[np.ndarray]:
    """The chunks of an array along its first axis (views; the last one padded with zeros)."""
    rows = chunk_rows(array)
    chunks = [array[start : start + rows] for start in range(0, len(array), rows)]
    if len(chunks[-1]) < rows:
        padded = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
        padded[: len(chunks[-1])] = chunks[-1]
        chunks[-1] = padded
    return chunks
