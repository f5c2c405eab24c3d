# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Fixtures of the recorder-manager tests: the env double and recorders that are closed after each test.

The helpers themselves live in ``_async_helpers.py`` next to this file (the subprocess workers import them too); this
folder is put on ``sys.path`` so that test modules can ``import _async_helpers`` under ``--import-mode=importlib``.
"""

from __future__ import annotations

import contextlib
import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import _async_helpers  # noqa: E402


@pytest.fixture
def data_env():
    """Factory of :class:`_async_helpers.DataEnv` doubles (``data_env(num_envs=4, device="cpu", ...)``)."""
    return _async_helpers.DataEnv


@pytest.fixture
def recorder(tmp_path):
    """Factory of recorder managers writing under ``tmp_path``: ``recorder(env=None, **cfg_changes)`` returns
    ``(manager, env)``. Every manager is closed after the test (errors at that point are ignored: the test itself
    checks them)."""
    managers = []

    def make(env=None, export_dir=None, **cfg_changes):
        manager, env = _async_helpers.make_recorder(export_dir or tmp_path, env=env, **cfg_changes)
        managers.append(manager)
        return manager, env

    yield make
    for manager in managers:
        with contextlib.suppress(Exception):
            manager.close()
