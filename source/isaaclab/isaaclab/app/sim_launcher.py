"""The launcher flags of Isaac Lab scripts, and a launch that the embedded runtime does not need."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

import torch


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add the launcher flags that Isaac Lab scripts accept: ``--device``, ``--headless``, ``--enable_cameras``.

    Args:
        parser: The script's argument parser.
    """
    default_device = "cuda:0" if torch.cuda.is_available() else "cpu"
    parser.add_argument(
        "--device", default=default_device, help=f"Torch device to simulate on (default: {default_device})."
    )
    parser.add_argument("--headless", action="store_true", help="Run without a viewer (the embedded runtime has none).")
    parser.add_argument("--enable_cameras", action="store_true", help="Enable camera rendering (camera tasks need it).")


@contextlib.contextmanager
def launch_simulation(cfg: Any, launcher_args: argparse.Namespace | dict | None = None) -> Iterator[None]:
    """Launch the runtime a config needs for the duration of the block: nothing to start for the embedded runtime.

    Args:
        cfg: The config of what will be simulated.
        launcher_args: The script's parsed launcher flags.

    Yields:
        None: the embedded runtime has no physics backend config to resolve.
    """
    yield None


def scan(cfg: Any, launcher_args: argparse.Namespace | dict | None = None) -> None:
    """Resolve a config's runtime choices from the launcher flags: the embedded runtime has none.

    Args:
        cfg: The config to resolve.
        launcher_args: The script's parsed launcher flags.
    """
