# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Worker of the SIGKILL test: forks one exporting child per trial, for the test to kill at a random moment.

Usage: ``python _async_crash_worker.py OUT_DIR TRIALS``; each trial starts when a line ``go`` arrives on stdin.

Importing torch costs seconds, so this process imports everything once and then forks a child per trial (it runs
no torch operation itself before forking, which keeps the children safe to use torch). Each child is a separate
process with its own recorder, writer thread and file ``OUT_DIR/trial_<i>/dataset.hdf5``; it exports in a loop and
never calls ``close()``. Lines on stdout (each flushed at once):

- ``pid <trial> <pid>``          (parent) a child started
- ``started <trial>``            (child) the recorder exists and the file is created
- ``written <trial> <n> <r>``    (child) after export round ``r``: the writer had written and flushed ``n`` episodes
- ``exit <trial> <status>``      (parent) the child ended, with its ``os.waitpid`` status
- ``done``                       (parent) all trials ran

Episode ``2 * r + e`` (env ``e`` of round ``r``) covers the global steps ``STEPS * r + 1 .. STEPS * (r + 1)`` and its
initial state is that of reset number ``r + 1`` (see ``_async_helpers.expected_demo``); envs 0 succeed, envs 1 fail.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import _async_helpers as helpers
import torch

NUM_ENVS = 2
STEPS = 24
IMAGE_SIZE = 84
NUM_CAMERAS = 2
MAX_SECONDS = 20.0
"""A child that is never killed stops by itself after this long."""


def _say(line: str) -> None:
    """Write one whole line with one system call: a kill can never leave half a line in the pipe."""
    os.write(sys.stdout.fileno(), (line + "\n").encode())


def child(out_dir: str, trial: int) -> None:
    torch.set_num_threads(1)
    env = helpers.DataEnv(num_envs=NUM_ENVS, image_size=IMAGE_SIZE, num_cameras=NUM_CAMERAS)
    manager, env = helpers.make_recorder(
        os.path.join(out_dir, f"trial_{trial}"),
        env=env,
        async_write=True,
        async_queue_size=4,
        dataset_compression=True,
    )
    _say(f"started {trial}")
    deadline = time.monotonic() + MAX_SECONDS
    round_index = 0
    while time.monotonic() < deadline:
        manager.record_post_reset(None)
        helpers.record_steps(manager, env, STEPS)
        manager.set_success_to_episodes(None, torch.tensor([True, False]))
        manager.export_episodes()
        _say(f"written {trial} {manager.writer_statistics.episodes_written} {round_index}")
        round_index += 1


def main(out_dir: str, trials: int) -> None:
    for trial in range(trials):
        # the next child starts only when the test asks, so that it is never left running unwatched
        if sys.stdin.readline().strip() != "go":
            break
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(out_dir, trial)
            except BaseException:  # noqa: BLE001 - report, then leave without running the parent's cleanup
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                os._exit(code)
        _say(f"pid {trial} {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"exit {trial} {status}")
    _say("done")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
