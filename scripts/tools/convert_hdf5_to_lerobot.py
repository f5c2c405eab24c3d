# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Convert Isaac Lab HDF5 datasets into one LeRobot v3.0 dataset.

Demos are read one at a time (memory holds one demo, whatever the size of the files) and written with the recorder's
LeRobot dataset file handler: camera observations (``obs/<camera>``, uint8 (H, W, 3)) become videos encoded with PyAV,
the other observation terms become ``observation.state``, and ``actions`` becomes ``action``. An existing, non-empty
output folder is refused, never deleted.

Example::

    ./isaaclab.sh -p scripts/tools/convert_hdf5_to_lerobot.py --hdf5 datasets/dataset.hdf5 \\
        --output datasets/dataset_lerobot --task "Stack the cubes"
"""

import argparse
import json
import os
import sys

import h5py
from tqdm import tqdm

from isaaclab.utils.datasets import HDF5DatasetFileHandler
from isaaclab.utils.datasets.lerobot import LeRobotDatasetCfg, LeRobotDatasetFileHandler, VideoCodecCfg


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hdf5", nargs="+", required=True, metavar="FILE", help="Isaac Lab HDF5 datasets, in order.")
    parser.add_argument("--output", required=True, metavar="DIR", help="The LeRobot dataset folder to create.")
    parser.add_argument("--task", default=None, help="Task description (default: the environment name in the file).")
    parser.add_argument(
        "--fps", type=float, default=None, help="Frames per second (default: 1 / (dt * decimation) from the file)."
    )
    parser.add_argument(
        "--cameras",
        nargs="+",
        default=None,
        metavar="CAM",
        help="Camera observation names (obs/<CAM>) to store as videos (default: every uint8 (H, W, 3) observation).",
    )
    parser.add_argument(
        "--state-keys",
        nargs="*",
        default=None,
        metavar="KEY",
        help="Episode keys (such as obs/eef_pos) concatenated into observation.state (default: every other"
        " observation term; give none for no state).",
    )
    parser.add_argument("--action-key", default="actions", help="The episode key stored as action.")
    parser.add_argument("--chunks-size", type=int, default=1000, help="Files per chunk folder.")
    parser.add_argument(
        "--codec",
        default="libsvtav1",
        help="Video encoder: libsvtav1 (LeRobot's default), libx264 (faster), h264_nvenc / hevc_nvenc / av1_nvenc.",
    )
    args = parser.parse_args()

    for path in args.hdf5:
        if not os.path.isfile(path):
            print(f"Error: the HDF5 dataset '{path}' does not exist.", file=sys.stderr)
            return 1
    cfg = LeRobotDatasetCfg(
        task=args.task,
        fps=args.fps,
        camera_keys=None if args.cameras is None else [f"obs/{camera}" for camera in args.cameras],
        state_keys=args.state_keys,
        action_key=args.action_key,
        chunks_size=args.chunks_size,
        video=VideoCodecCfg(codec=args.codec),
    )
    env_args = [_read_env_args(path) for path in args.hdf5]
    if args.fps is None:
        rates = {path: _frame_rate(path, path_env_args) for path, path_env_args in zip(args.hdf5, env_args)}
        if None in rates.values() or len(set(rates.values())) > 1:
            print(
                f"Error: the frame rate is missing or differs between the files {rates}: pass --fps.", file=sys.stderr
            )
            return 1
    handler = LeRobotDatasetFileHandler(cfg)
    try:
        handler.create(args.output, env_name=env_args[0].get("env_name") or None)
    except FileExistsError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    sources = [_open(path) for path in args.hdf5]
    try:
        handler.add_env_args(env_args[0])
        total = sum(source.get_num_episodes() for source in sources)
        with tqdm(total=total, unit="demo", desc="Converting") as progress:
            for source in sources:
                for name in sorted(source.get_episode_names(), key=_demo_order):
                    handler.write_episode(source.load_episode(name, "cpu"))
                    progress.update()
    finally:
        handler.close()
        for source in sources:
            source.close()
    print(f"Wrote {handler.get_num_episodes()} episodes at {handler.fps} fps to '{args.output}'.")
    return 0


def _open(path: str) -> HDF5DatasetFileHandler:
    source = HDF5DatasetFileHandler()
    source.open(path)
    return source


def _demo_order(name: str) -> tuple[int, str]:
    """Demos in the order of their number (demo_2 before demo_10), other names after them."""
    number = name.rsplit("_", 1)[-1]
    return (int(number), name) if number.isdigit() else (sys.maxsize, name)


def _read_env_args(path: str) -> dict:
    """The environment arguments stored in an HDF5 dataset."""
    with h5py.File(path, "r") as file:
        return json.loads(file["data"].attrs.get("env_args", "{}"))


def _frame_rate(path: str, env_args: dict) -> float | None:
    """1 / (dt * decimation) from a file's ``sim_args``, or None if it has none."""
    sim_args = env_args.get("sim_args", {})
    if "dt" not in sim_args or "decimation" not in sim_args:
        return None
    return 1.0 / (sim_args["dt"] * sim_args["decimation"])


if __name__ == "__main__":
    sys.exit(main())
