# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Ending a program without losing queued episodes.

Recorders register the finalizer that drains their writer and closes their files. When the program ends without
closing them, the finalizers run at exit; if an episode could not be written then, the error is printed and the
program exits with status 1 instead of 0. While a recorder writes in the background, SIGTERM ends the program as
an exit does (``SystemExit(143)``), so that the queued episodes are written first, unless the program handles SIGTERM
itself. A SIGTERM that arrives while an export is handing episodes over takes effect once it is done.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import weakref
from collections.abc import Iterator

from .episode_writer import EpisodeWriteError

_lock = threading.Lock()
_finalizers: list[weakref.finalize] = []
_background_finalizers: list[weakref.finalize] = []
# exports running on the main thread, and a SIGTERM that arrived during one
_critical_depth = 0
_pending_signal: int | None = None


def register(finalizer: weakref.finalize, background: bool) -> None:
    """Run a recorder's finalizer at exit (instead of at :mod:`weakref`'s own exit hook, which ignores failures).

    Args:
        finalizer: Drains the recorder's writer and closes its files; raises :class:`EpisodeWriteError` on loss.
        background: Whether the recorder writes on a background thread: then SIGTERM drains it too.
    """
    finalizer.atexit = False
    with _lock:
        _finalizers.append(finalizer)
        if background:
            _background_finalizers.append(finalizer)
            _install_sigterm_handler()


def release() -> None:
    """Forget finalizers that ran; give SIGTERM its default action back when no recorder writes in the background."""
    with _lock:
        _finalizers[:] = [finalizer for finalizer in _finalizers if finalizer.alive]
        _background_finalizers[:] = [finalizer for finalizer in _background_finalizers if finalizer.alive]
        if not _background_finalizers and _is_main_thread() and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def deferred_termination() -> Iterator[None]:
    """Hold back a SIGTERM that arrives on the main thread inside the block until the block is done."""
    global _critical_depth, _pending_signal
    if not _is_main_thread():
        yield
        return
    _critical_depth += 1
    try:
        yield
    finally:
        _critical_depth -= 1
        if _critical_depth == 0 and _pending_signal is not None:
            signum, _pending_signal = _pending_signal, None
            raise SystemExit(128 + signum)


def _install_sigterm_handler() -> None:
    """Make SIGTERM exit the program normally (call with the lock held), unless the program set its own handler."""
    if _is_main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame) -> None:
    global _pending_signal
    if _critical_depth:
        _pending_signal = signum
        return
    raise SystemExit(128 + signum)


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@atexit.register
def _drain_at_exit() -> None:
    """Drain and close every recorder left open; exit with status 1 if episodes were lost."""
    with _lock:
        finalizers = [finalizer for finalizer in _finalizers if finalizer.alive]
    errors = []
    for finalizer in finalizers:
        try:
            finalizer()
        except EpisodeWriteError as error:
            errors.append(error)
    if errors:
        for error in errors:
            print(f"[isaaclab] Error at exit: {error}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # the interpreter ignores errors raised at exit and would report success: episodes were lost
        os._exit(1)
