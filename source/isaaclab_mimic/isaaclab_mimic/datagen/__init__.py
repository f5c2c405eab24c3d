"""Mimic data generation: source demo pool, selection strategies, waypoints and the data generator.

The parallel generation driver lives in :mod:`isaaclab_mimic.datagen.generation` (imported on its own, since it
builds task configs through ``isaaclab_tasks``).
"""

from .data_generator import DataGenerator
from .datagen_info import DatagenInfo
from .datagen_info_pool import DataGenInfoPool
from .selection_strategy import (
    NearestNeighborObjectStrategy,
    NearestNeighborRobotDistanceStrategy,
    RandomStrategy,
    SelectionStrategy,
    make_selection_strategy,
    register_selection_strategy,
)
from .waypoint import MultiWaypoint, Waypoint, WaypointSequence, WaypointTrajectory

__all__ = [
    "DataGenInfoPool",
    "DataGenerator",
    "DatagenInfo",
    "MultiWaypoint",
    "NearestNeighborObjectStrategy",
    "NearestNeighborRobotDistanceStrategy",
    "RandomStrategy",
    "SelectionStrategy",
    "Waypoint",
    "WaypointSequence",
    "WaypointTrajectory",
    "make_selection_strategy",
    "register_selection_strategy",
]
