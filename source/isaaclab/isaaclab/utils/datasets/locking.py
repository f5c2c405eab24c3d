# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Methods that run with their object's lock held."""

from __future__ import annotations

import functools
from collections.abc import Callable


def locked(method: Callable) -> Callable:
    """Run a method with its object's ``_lock`` (a re-entrant lock) held: for objects that the simulation loop and
    the episode writer's thread both call."""

    @functools.wraps(method)
    def run_locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return run_locked
