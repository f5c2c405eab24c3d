"""Command-line plumbing shared by the Mimic scripts: common flags, input checks and clean error exits."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from isaaclab.envs.manager_based_env import resolve_device

import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)

import isaaclab_tasks  # noqa: F401  (registers the tasks)
from isaaclab_tasks.utils import parse_env_cfg


class ToolError(Exception):
    """An expected failure (bad input, unusable file, a task that cannot do what was asked): reported without a
    traceback."""


def run(main: Callable[[], int | None]) -> None:
    """Run a script's main function; report :class:`ToolError` as ``Error: <message>`` and exit with status 1."""
    try:
        status = main()
    except ToolError as err:
        print(f"Error: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    sys.exit(status or 0)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add the simulator launcher flags that Isaac Lab scripts accept: ``--device``, ``--headless``,
    ``--enable_cameras``."""
    parser.add_argument("--device", default="cpu", help="Torch device to simulate on: cpu, cuda or cuda:<index>.")
    parser.add_argument("--headless", action="store_true", help="Run without a viewer (there is none here anyway).")
    parser.add_argument("--enable_cameras", action="store_true", help="Enable camera rendering (camera tasks need it).")


def load_env_cfg(task: str, device: str, num_envs: int, enable_cameras: bool) -> Any:
    """The config of a registered task, checked against the flags.

    Raises:
        ToolError: If the task is unknown, the device unusable, or the task has cameras and cameras are not enabled.
    """
    try:
        resolve_device(device)
        env_cfg = parse_env_cfg(task, device=device, num_envs=num_envs)
    except (ValueError, RuntimeError) as err:
        raise ToolError(str(err)) from None
    check_cameras(task, env_cfg, enable_cameras)
    env_cfg.env_name = task
    return env_cfg


def check_cameras(task: str, env_cfg: Any, enable_cameras: bool) -> None:
    """Check that cameras are enabled if the task renders any.

    Raises:
        ToolError: If the task has cameras and ``enable_cameras`` is off.
    """
    cameras = getattr(env_cfg.scene, "cameras", None)
    if cameras and not enable_cameras:
        raise ToolError(f"Task '{task}' renders cameras ({', '.join(cameras)}); pass --enable_cameras.")


def make_env(task: str, env_cfg: Any) -> Any:
    """Create the (unwrapped) environment of a task from its config."""
    return gym.make(task, cfg=env_cfg).unwrapped


def existing_file(path: str, what: str) -> str:
    """The path of an input file that must exist.

    Raises:
        ToolError: If there is no file at that path.
    """
    if not os.path.isfile(path):
        raise ToolError(f"{what} '{path}' does not exist.")
    return path


def new_dataset_file(path: str, what: str) -> tuple[str, str]:
    """The folder and file name (without ``.hdf5``) of a dataset file to create; it must not exist yet.

    Raises:
        ToolError: If the file (with ``.hdf5`` appended when missing) already exists or names a directory.
    """
    full_path = path if path.endswith(".hdf5") else path + ".hdf5"
    if os.path.exists(full_path):
        raise ToolError(f"{what} '{full_path}' already exists; remove it or choose another path.")
    directory, filename = os.path.split(os.path.abspath(full_path))
    return directory, filename[: -len(".hdf5")]
