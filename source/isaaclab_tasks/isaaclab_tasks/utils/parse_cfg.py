"""Build an environment configuration from a registered task id."""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym


def load_cfg_from_registry(task_name: str, entry_point_key: str) -> Any:
    """Create the config that a registered task names under ``entry_point_key``.

    The entry point may be a config class, an instance, a callable returning one, or a ``"module:attribute"`` string.

    Args:
        task_name: The gymnasium task id.
        entry_point_key: The key in the registration kwargs (for example ``"env_cfg_entry_point"``).

    Raises:
        ValueError: If the task is not registered or has no such entry point.
    """
    if task_name not in gym.registry:
        known = sorted(name for name in gym.registry if name.startswith("Isaac-"))
        raise ValueError(f"Unknown task '{task_name}'. Registered tasks: {', '.join(known) or 'none'}.")
    entry_point = gym.spec(task_name).kwargs.get(entry_point_key)
    if entry_point is None:
        raise ValueError(f"Task '{task_name}' has no '{entry_point_key}' in its registration kwargs.")
    if isinstance(entry_point, str):
        module_name, attribute = entry_point.split(":")
        entry_point = getattr(importlib.import_module(module_name), attribute)
    return entry_point() if callable(entry_point) else entry_point


def parse_env_cfg(task_name: str, device: str = "cpu", num_envs: int | None = None) -> Any:
    """The environment config of a registered task, with device and number of environments set.

    Args:
        task_name: The gymnasium task id.
        device: Torch device of the simulation.
        num_envs: Number of parallel environments (None keeps the task's default).

    Raises:
        ValueError: If the task is unknown or ``num_envs`` is not a positive integer.
    """
    if num_envs is not None and (isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1):
        raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}.")
    cfg = load_cfg_from_registry(task_name, "env_cfg_entry_point")
    cfg.sim.device = device
    if num_envs is not None:
        cfg.scene.num_envs = num_envs
    return cfg
