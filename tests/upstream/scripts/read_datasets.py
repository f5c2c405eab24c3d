# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Load every episode of dataset files with Isaac Lab's own HDF5DatasetFileHandler.

Run with the upstream environment's python and no patched packages on ``PYTHONPATH``: it then reads the files with
the unpatched Isaac Lab 3.0.0 reader. Prints one JSON object: the file the handler was imported from and, per
dataset file, the number of episodes loaded, their total number of actions, and their success flags.

Usage: ``python read_datasets.py FILE [FILE ...]``.
"""

from __future__ import annotations

import inspect
import json
import sys

from isaaclab.utils.datasets import HDF5DatasetFileHandler


def read(path: str) -> dict:
    """Open a file with the handler and load each of its episodes."""
    handler = HDF5DatasetFileHandler()
    handler.open(path)
    try:
        names = list(handler.get_episode_names())
        if handler.get_num_episodes() != len(names):
            raise RuntimeError(f"{path}: get_num_episodes() is {handler.get_num_episodes()}, {len(names)} names")
        actions = 0
        successes = []
        for name in names:
            episode = handler.load_episode(name, device="cpu")
            if episode is None or episode.is_empty():
                raise RuntimeError(f"{path}: episode {name} did not load")
            actions += int(episode.data["actions"].shape[0])
            successes.append(bool(episode.success))
        return {"episodes": len(names), "actions": actions, "succeeded": sum(successes), "env": handler.get_env_name()}
    finally:
        handler.close()


def main() -> int:
    result = {"handler_file": inspect.getfile(HDF5DatasetFileHandler), "files": {}}
    for path in sys.argv[1:]:
        result["files"][path] = read(path)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
