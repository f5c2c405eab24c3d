# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Per-episode feature statistics, and the dataset's statistics aggregated as episodes are written."""

from __future__ import annotations

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
"""The quantiles stored next to min, max, mean, std and count (as ``q01``, ``q10``...), as LeRobot stores them."""

QUANTILE_NAMES = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)


def array_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Statistics of rows (N, D) over the first axis: each of shape (D,), ``count`` of shape (1,)."""
    values = values.astype(np.float64, copy=False)
    stats = {
        "min": values.min(axis=0),
        "max": values.max(axis=0),
        "mean": values.mean(axis=0),
        "std": values.std(axis=0),
        "count": np.array([len(values)], dtype=np.int64),
    }
    for name, quantile in zip(QUANTILE_NAMES, np.quantile(values, QUANTILES, axis=0)):
        stats[name] = quantile
    return stats


def image_stats(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel statistics of uint8 frames (T, H, W, 3) in [0, 1], each of shape (3, 1, 1) as LeRobot stores them.

    They are exact over every pixel, computed from each channel's histogram of the 256 levels; a quantile is the
    lowest level at or below which that share of the pixels lies. ``count`` is the number of frames.
    """
    levels = np.arange(256, dtype=np.float64)
    stats: dict[str, list] = {name: [] for name in ("min", "max", "mean", "std", *QUANTILE_NAMES)}
    for channel in range(frames.shape[-1]):
        histogram = np.bincount(frames[..., channel].ravel(), minlength=256).astype(np.float64)
        total = histogram.sum()
        present = np.flatnonzero(histogram)
        mean = histogram @ levels / total
        stats["min"].append(present[0])
        stats["max"].append(present[-1])
        stats["mean"].append(mean)
        stats["std"].append(np.sqrt(max(histogram @ levels**2 / total - mean**2, 0.0)))
        cumulative = np.cumsum(histogram)
        for name, quantile in zip(QUANTILE_NAMES, QUANTILES):
            stats[name].append(np.searchsorted(cumulative, quantile * total))
    result = {name: (np.asarray(values, dtype=np.float64) / 255.0).reshape(3, 1, 1) for name, values in stats.items()}
    result["count"] = np.array([len(frames)], dtype=np.int64)
    return result


class RunningStats:
    """The statistics of a dataset, from its episodes' statistics added one by one.

    min and max are exact; mean and std are exact (from the count-weighted first and second moments); quantiles are
    the count-weighted mean of the episodes' quantiles, as LeRobot aggregates them.
    """

    def __init__(self) -> None:
        self._features: dict[str, dict[str, np.ndarray]] = {}

    def add(self, episode_stats: dict[str, dict[str, np.ndarray]]) -> None:
        """Add one episode's statistics (as :func:`array_stats` / :func:`image_stats` give them)."""
        for feature, stats in episode_stats.items():
            count = float(stats["count"][0])
            mean = np.asarray(stats["mean"], dtype=np.float64)
            std = np.asarray(stats["std"], dtype=np.float64)
            sums = {
                "count": count,
                "sum": count * mean,
                "sum_sq": count * (std**2 + mean**2),
                **{name: count * np.asarray(stats[name], dtype=np.float64) for name in QUANTILE_NAMES},
            }
            current = self._features.get(feature)
            if current is None:
                self._features[feature] = {
                    **sums,
                    "min": np.asarray(stats["min"], dtype=np.float64),
                    "max": np.asarray(stats["max"], dtype=np.float64),
                }
                continue
            for name, value in sums.items():
                current[name] = current[name] + value
            current["min"] = np.minimum(current["min"], stats["min"])
            current["max"] = np.maximum(current["max"], stats["max"])

    def to_json(self) -> dict[str, dict[str, list]]:
        """The aggregated statistics as ``meta/stats.json`` holds them."""
        result = {}
        for feature, sums in self._features.items():
            count = sums["count"]
            mean = sums["sum"] / count
            variance = np.maximum(sums["sum_sq"] / count - mean**2, 0.0)
            stats = {
                "min": sums["min"],
                "max": sums["max"],
                "mean": mean,
                "std": np.sqrt(variance),
                "count": np.array([round(count)], dtype=np.int64),
                **{name: sums[name] / count for name in QUANTILE_NAMES},
            }
            result[feature] = {name: value.tolist() for name, value in stats.items()}
        return result


def stats_to_json(episode_stats: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, list]]:
    """One episode's statistics with lists instead of arrays."""
    return {
        feature: {name: np.asarray(value).tolist() for name, value in stats.items()}
        for feature, stats in episode_stats.items()
    }


def stats_from_json(value: dict[str, dict[str, list]]) -> dict[str, dict[str, np.ndarray]]:
    """The inverse of :func:`stats_to_json`."""
    return {feature: {name: np.asarray(item) for name, item in stats.items()} for feature, stats in value.items()}
