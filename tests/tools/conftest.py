# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Shared fixtures of the tests of ``tools/``: the tool modules, loaded from ``tools/`` (which is not a package)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _import_tool(name: str):
    tools = str(REPO_ROOT / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def tool():
    """``tools/upstream_patch.py``: the whole diff from Isaac Lab 3.0.0 to the project."""
    return _import_tool("upstream_patch")


@pytest.fixture(scope="session")
def series():
    """``tools/patch_series.py``: the project's work as a series of pull requests."""
    return _import_tool("patch_series")


@pytest.fixture(scope="session")
def write_tree():
    """A function that writes files (``{path relative to root: text}``) under a root, creating their folders."""

    def write(root: Path, files: dict[str, str]) -> None:
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)

    return write
