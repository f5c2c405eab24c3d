# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Writing HDF5 datasets whose chunks are compressed on a pool of threads.

HDF5 compresses the chunks of a dataset one after the other, on the thread that writes it. Here each chunk is
deflated with :mod:`zlib` (which releases the GIL while it compresses) on a pool of threads, and the compressed bytes
go to the file through HDF5's direct chunk write, so HDF5 only copies them. The file is the same as HDF5 writes
itself: the same deflate filter and level, the same chunk shapes (HDF5's own choice), the same values; any HDF5 reader
opens it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

BACKGROUND_NICENESS = 10
"""The nice value of the background writer and compression threads (the simulation loop keeps 0)."""

COMPRESSION_CODECS = ("gzip", "lzf", "none")
"""The codecs a dataset can be written with: gzip (levels 0-9, compressed on the pool), lzf (by HDF5), none."""


def default_compression_threads(asynchronous: bool) -> int:
    """The number of compression threads for this machine.

    Every core when the caller waits for the write anyway; every core but one when the write runs beside the
    simulation loop, which keeps a core of its own.

    Args:
        asynchronous: Whether the writes run on a background thread beside the simulation loop.
    """
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if asynchronous else cores


def check_compression(codec: str, level: int, threads: int) -> None:
    """Check compression settings.

    Raises:
        ValueError: If the codec is unknown, the gzip level is not in 0-9, or the thread count is not positive.
    """
    if codec not in COMPRESSION_CODECS:
        raise ValueError(
            f"Unknown dataset compression codec '{codec}': expected one of {', '.join(COMPRESSION_CODECS)}."
        )
    if codec == "gzip" and not 0 <= level <= 9:
        raise ValueError(f"The gzip compression level must be in 0-9, got {level}.")
    if threads < 1:
        raise ValueError(f"The number of compression threads must be at least 1, got {threads}.")


class ChunkCompressor:
    """Writes numpy arrays as gzip-compressed HDF5 datasets, deflating their chunks on a pool of threads."""

    def __init__(self, level: int, threads: int) -> None:
        """Create a compressor (its threads start on first use).

        Args:
            level: The gzip (deflate) level, 0-9.
            threads: The number of compression threads.
        """
        check_compression("gzip", level, threads)
        self._level = level
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def threads(self) -> int:
        """The number of compression threads."""
        return self._threads

    def create_dataset(self, group, name: str, array: np.ndarray, hdf5_lock: threading.RLock) -> None:
        """Create ``group[name]`` holding ``array``, gzip-compressed at the compressor's level.

        HDF5 calls are made under ``hdf5_lock``; the compression runs outside it, on the calling thread and the pool
        (one task per thread, not one per chunk, to keep the GIL time of the bookkeeping small).

        Args:
            group: The h5py group to create the dataset in.
            name: The dataset's name.
            array: The data.
            hdf5_lock: The lock that guards every HDF5 call on the file.
        """
        with hdf5_lock:
            if array.ndim == 0 or array.size == 0:
                # nothing to split into chunks: HDF5 writes it as it would
                group.create_dataset(name, data=array, compression="gzip", compression_opts=self._level)
                return
            dataset = group.create_dataset(
                name, shape=array.shape, dtype=array.dtype, compression="gzip", compression_opts=self._level
            )
            chunk_shape = dataset.chunks
        offsets = list(itertools.product(*(range(0, size, chunk) for size, chunk in zip(array.shape, chunk_shape))))
        # one task per thread, over every n-th chunk (so that edge chunks spread evenly): the calling thread
        # compresses the first share itself, the pool the others
        shares = [offsets[index :: self._threads] for index in range(min(self._threads, len(offsets)))]
        try:
            futures = [self._executor().submit(self._deflate_chunks, array, share, chunk_shape) for share in shares[1:]]
        except RuntimeError:
            # the interpreter is exiting (a program that ended without closing its recorder): no pool thread can
            # start any more, so every chunk is compressed on this thread
            shares, futures = [offsets], []
        results = [(shares[0], self._deflate_chunks(array, shares[0], chunk_shape))]
        results += [(share, future.result()) for share, future in zip(shares[1:], futures)]
        with hdf5_lock:
            for share, chunks in results:
                for offset, data in zip(share, chunks):
                    dataset.id.write_direct_chunk(offset, data)

    def shutdown(self) -> None:
        """Stop the compression threads (a later write starts them again)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # the calling (writer) thread compresses one share itself: the pool has one thread less. Its threads
                # start from the thread that submits, and inherit its scheduling priority (lowered on the background
                # writer thread, not on a caller that waits for the write)
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self._threads - 1), thread_name_prefix="isaaclab-compress"
                )
            return self._pool

    def _deflate_chunks(
        self, array: np.ndarray, offsets: list[tuple[int, ...]], chunk_shape: tuple[int, ...]
    ) -> list[bytes]:
        """The deflated bytes of the chunks at ``offsets``; an edge chunk is padded with zeros to the full chunk
        shape, as HDF5 pads it."""
        compressed = []
        for offset in offsets:
            region = array[tuple(slice(start, start + size) for start, size in zip(offset, chunk_shape))]
            if region.shape != chunk_shape:
                padded = np.zeros(chunk_shape, dtype=array.dtype)
                padded[tuple(slice(0, size) for size in region.shape)] = region
                region = padded
            compressed.append(zlib.compress(memoryview(np.ascontiguousarray(region)).cast("B"), self._level))
        return compressed


def lower_thread_priority() -> None:
    """Lower the scheduling priority of the calling thread (Linux: its nice value, which threads it starts inherit),
    so that the simulation loop gets a core first when the writer's threads compete with it; elsewhere, or if not
    permitted, do nothing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)
