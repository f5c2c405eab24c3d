# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Ray, an optional dependency of distributed generation: imported on demand, installed with pip on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable
from types import ModuleType

__all__ = ["RAY_REQUIREMENT", "import_ray"]

RAY_REQUIREMENT = "ray==2.60.0"
"""The Ray release installed on first use (also the ``ray`` extra of the ``isaaclab_mimic`` package)."""


def import_ray(log: Callable[[str], None] = print) -> ModuleType:
    """Import Ray, installing :data:`RAY_REQUIREMENT` into the running interpreter first if it is missing.

    Args:
        log: Where the line announcing an installation goes.

    Returns:
        The ``ray`` module.

    Raises:
        RuntimeError: If pip fails to install Ray.
    """
    try:
        return importlib.import_module("ray")
    except ImportError:
        pass
    log(f"[INFO] Ray is not installed: installing {RAY_REQUIREMENT} into {sys.executable} (once).")
    command = [sys.executable, "-m", "pip", "install", RAY_REQUIREMENT]
    if subprocess.run(command).returncode != 0:
        raise RuntimeError(f"Could not install {RAY_REQUIREMENT} with '{' '.join(command)}'; install it and retry.")
    importlib.invalidate_caches()
    return importlib.import_module("ray")
