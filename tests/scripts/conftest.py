# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Fixtures of the benchmark scripts' tests: run a script as a user does, or import it as a module."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO_ROOT / "scripts" / "benchmarks"


@pytest.fixture(scope="session")
def run_benchmark() -> Callable[..., subprocess.CompletedProcess]:
    """Runs ``scripts/benchmarks/<name>.py`` with arguments in a new process, from the repository root (where the
    cached source datasets are), and fails the test with the script's output if it fails."""

    def run(name: str, *args: str, timeout: float = 270) -> subprocess.CompletedProcess:
        command = [sys.executable, str(BENCHMARKS / f"{name}.py"), *args]
        process = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
        assert process.returncode == 0, f"stdout:\n{process.stdout[-4000:]}\nstderr:\n{process.stderr[-4000:]}"
        return process

    return run


@pytest.fixture(scope="session")
def load_benchmark() -> Callable[[str], ModuleType]:
    """Imports ``scripts/benchmarks/<name>.py`` as a module, its folder first on ``sys.path`` as when it runs."""

    def load(name: str) -> ModuleType:
        if str(BENCHMARKS) not in sys.path:
            sys.path.insert(0, str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load
