# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Worker of the fault-injection tests: runs one recorder scenario under a fault that needs its own process.

Usage: ``python _fault_worker.py SCENARIO OUT_DIR MODE`` with ``MODE`` ``sync`` or ``async``; prints one JSON line
with what the user saw (the errors, their messages) and the recorder's counts.

Scenarios:

- ``disk_full``: the process may write at most a few MB (``RLIMIT_FSIZE``, with ``SIGXFSZ`` ignored so that writes
  fail with ``EFBIG`` instead of killing the process); episodes of camera images are exported until an export
  raises, then the recorder is closed.
- ``permission_denied``: the process runs as an unprivileged user and the export folder is read-only.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys

import _async_helpers as helpers
import torch

FILE_SIZE_LIMIT = 3 * 1024 * 1024
MAX_ROUNDS = 40


def _error(exc: BaseException | None) -> dict | None:
    if exc is None:
        return None
    return {"type": type(exc).__name__, "message": str(exc), "cause": type(exc.__cause__).__name__}


def disk_full(out_dir: str, asynchronous: bool) -> dict:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    env = helpers.DataEnv(num_envs=2, image_size=96, num_cameras=2)
    manager, env = helpers.make_recorder(out_dir, env=env, async_write=asynchronous, dataset_compression=False)
    export_error = close_error = None
    exported = 0
    for _ in range(MAX_ROUNDS):
        manager.record_post_reset(None)
        helpers.record_steps(manager, env, 10)
        manager.set_success_to_episodes(None, torch.tensor([True, True]))
        try:
            manager.export_episodes()
            manager.flush()
        except Exception as exc:  # noqa: BLE001 - the test checks what the user saw
            export_error = exc
            break
        exported += 2
    try:
        manager.close()
    except Exception as exc:  # noqa: BLE001
        close_error = exc
    stats = manager.writer_statistics
    return {
        "export_error": _error(export_error),
        "close_error": _error(close_error),
        "exported_before_error": exported,
        "successful_count": manager.exported_successful_episode_count,
        "episodes_written": stats.episodes_written,
        "episodes_failed": stats.episodes_failed,
    }


def permission_denied(out_dir: str, asynchronous: bool) -> dict:
    try:
        helpers.make_recorder(out_dir, async_write=asynchronous)
    except Exception as exc:  # noqa: BLE001
        return {"create_error": _error(exc)}
    return {"create_error": None}


if __name__ == "__main__":
    scenario, out_dir, mode = sys.argv[1:4]
    torch.set_num_threads(1)
    result = {"disk_full": disk_full, "permission_denied": permission_denied}[scenario](out_dir, mode == "async")
    print(json.dumps(result), flush=True)
    os._exit(0)
