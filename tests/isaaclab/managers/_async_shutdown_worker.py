# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Worker of the shutdown test: export with a slow asynchronous writer, then end WITHOUT calling ``close()``.

Usage: ``python _async_shutdown_worker.py OUT_DIR MODE`` where MODE is ``return`` (the script just ends) or
``uncaught`` (the main thread ends with an uncaught exception). Before ending it prints one JSON line with what it
exported and how many episodes the writer had written at that moment.
"""

from __future__ import annotations

import json
import sys

import torch
from _async_helpers import handler_class, make_recorder, record_steps

NUM_ENVS = 4
ROUNDS = 4
STEPS = 3
DELAY_S = 0.05


def main(out_dir: str, mode: str) -> None:
    manager, env = make_recorder(
        out_dir,
        async_write=True,
        async_queue_size=64,
        dataset_compression=True,
        dataset_file_handler_class_type=handler_class(delay_s=DELAY_S),
    )
    rounds = []
    for _ in range(ROUNDS):
        manager.record_post_reset(None)
        steps = record_steps(manager, env, STEPS)
        manager.set_success_to_episodes(None, torch.tensor([True, False, True, False]))
        manager.export_episodes()
        rounds.append(steps)
    stats = manager.writer_statistics
    print(
        json.dumps({"rounds": rounds, "submitted": stats.episodes_submitted, "written": stats.episodes_written}),
        flush=True,
    )
    # keep the manager referenced until the very end, as a script holding it in a global would
    globals()["_manager"] = manager
    if mode == "uncaught":
        raise RuntimeError("deliberate uncaught error after exporting")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
