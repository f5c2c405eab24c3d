# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Worker of the exit tests: a program that uses the asynchronous recorder and ends in some way.

Usage: ``python _exit_worker.py SCENARIO OUT_DIR``. Lines on stdout (flushed at once) tell the test what happened;
the last one is JSON.

Scenarios:

- ``sigterm``: export episodes that a slow writer has not written yet, print ``ready {...}`` and wait to be
  terminated.
- ``own_handler``: the same, but the program handles SIGTERM itself (before making its recorder): the recorder must
  leave that handler alone; the program closes the recorder and ends normally.
- ``lost``: every write fails; the program ends without ``close()``.
- ``hold``: create the dataset file, export a round, print ``ready``, then wait for a line ``go`` on stdin, export a
  second round and close.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

import _async_helpers as helpers
import torch

NUM_ENVS = 4
ROUNDS = 4


def export_rounds(manager, env, rounds: int) -> None:
    for _ in range(rounds):
        manager.record_post_reset(None)
        helpers.record_steps(manager, env, 3)
        manager.set_success_to_episodes(None, torch.ones(NUM_ENVS, dtype=torch.bool))
        manager.export_episodes()


def say(line: str) -> None:
    print(line, flush=True)


def main(scenario: str, out_dir: str) -> None:
    terminated = threading.Event()
    if scenario == "own_handler":
        signal.signal(signal.SIGTERM, lambda signum, frame: terminated.set())
    gate = threading.Event()
    handler = helpers.handler_class(
        delay_s=0.2 if scenario in ("sigterm", "own_handler") else 0.0,
        fail_from=0 if scenario == "lost" else None,
        gate=gate if scenario == "lost" else None,
    )
    manager, env = helpers.make_recorder(
        out_dir, async_write=True, async_queue_size=64, dataset_file_handler_class_type=handler
    )
    globals()["_manager"] = manager  # held to the end, as a script holding it in a global would
    if scenario == "hold":
        export_rounds(manager, env, 1)
        manager.flush()
        say("ready")
        assert sys.stdin.readline().strip() == "go"
        export_rounds(manager, env, 1)
        manager.close()
        say(json.dumps({"written": manager.writer_statistics.episodes_written}))
        return
    export_rounds(manager, env, ROUNDS)
    stats = manager.writer_statistics
    say("ready " + json.dumps({"submitted": stats.episodes_submitted, "written": stats.episodes_written}))
    if scenario == "lost":
        gate.set()  # the writes start failing only now, after the last export returned: nothing was reported
        return
    deadline = time.monotonic() + 60
    while not terminated.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    if scenario == "own_handler":
        say("own handler ran")
        manager.close()


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1], sys.argv[2])
