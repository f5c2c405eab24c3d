"""Recorder terms of manager-based envs."""

from .recorders import *  # noqa: F401, F403
from .recorders_cfg import *  # noqa: F401, F403
