# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The process's resident memory (RSS), sampled on a thread for its peak."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

import psutil


class RssSampler:
    """Samples the process's resident memory every few milliseconds on a thread while in a ``with`` block; keeps the
    peak."""

    def __init__(self, interval_s: float = 0.002) -> None:
        """Take the first sample.

        Args:
            interval_s: Seconds between samples.
        """
        self._process = psutil.Process()
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.start_bytes = self.rss()
        """The resident memory when the sampler was made."""
        self.peak_bytes = self.start_bytes
        """The most resident memory sampled since the start or the last :meth:`reset_peak`."""
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def rss(self) -> int:
        """The resident memory now, in bytes (not a sample: the peak is left alone)."""
        return self._process.memory_info().rss

    def sample(self) -> int:
        """Sample now; returns the resident memory."""
        rss = self.rss()
        self.peak_bytes = max(self.peak_bytes, rss)
        return rss

    def reset_peak(self) -> None:
        """Start a new peak from now."""
        self.peak_bytes = self.rss()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()


def malloc_trim() -> bool:
    """Return the heap's free pages to the OS (glibc's ``malloc_trim(0)``); returns whether it could be called."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return False
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True
