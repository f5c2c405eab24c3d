# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""What a benchmark ran on: the machine, the software, the load average and the git commit measured."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import h5py
import torch

REPO_ROOT = Path(__file__).resolve().parents[3]
"""The repository the benchmarks belong to."""


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, if the OS says (other processes disturb the timings)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def git_commit(path: Path = REPO_ROOT) -> str | None:
    """The short commit checked out at ``path``, with ``-dirty`` if tracked files differ from it (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if commit is None:
        return None
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """The machine and software a benchmark runs on, the load average at its start and the commit it measures.

    Args:
        device: The torch device the benchmark uses.

    Returns:
        A JSON-friendly dict (its ``load_average_end`` is filled in when the results are written).
    """
    cuda = torch.device(device).type == "cuda"
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": memory_gb,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "device": device,
        "cuda_device": torch.cuda.get_device_name(device) if cuda else None,
        "git_commit": git_commit(),
        "load_average_start": load_average(),
    }


def describe(machine: dict[str, Any]) -> str:
    """One line about the machine for a markdown report."""
    gpu = f", {machine['cuda_device']}" if machine.get("cuda_device") else ", no GPU used"
    return (
        f"Machine: {machine['cpu_count']} CPUs{gpu}, torch {machine['torch']}, h5py {machine['h5py']} (HDF5"
        f" {machine['hdf5']}), Python {machine['python']}; commit {machine['git_commit']}; load average"
        f" {machine['load_average_start']} at start, {machine.get('load_average_end')} at end."
    )
