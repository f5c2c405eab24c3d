# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Interleaved rounds and what is reported of them.

A round runs every mode once, one after the other, in an order rotated by one mode every round, so that a slow
spell of the machine falls on different modes. A ratio of two modes is taken within each round, and reported as the
median of the per-round ratios with their range: ``median [min-max]``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

Run = dict[str, Any]
"""One measurement: the fields a benchmark records, plus ``round`` and ``mode``."""


def rotated(items: Sequence[T], round_index: int) -> list[T]:
    """The items in the order of a round: rotated left by ``round_index``."""
    shift = round_index % len(items)
    return [*items[shift:], *items[:shift]]


def run_rounds(
    modes: Sequence[str],
    repeats: int,
    run: Callable[[Any, str, int], Run | list[Run]],
    groups: Sequence[Any] = (None,),
    warmup: int = 0,
    summary: Callable[[list[Run]], str] | None = None,
) -> list[Run]:
    """Run interleaved rounds: in each, for every group, every mode once in the round's rotated order.

    Args:
        modes: The modes, in the order of the first round.
        repeats: The measured rounds.
        run: Called as ``run(group, mode, round_index)``; returns the run's measurements (one dict or several).
        groups: What every round runs all modes for, in order (for example sizes); one unnamed group by default.
        warmup: Rounds run before the measured ones, with negative round indices, whose results are dropped.
        summary: Makes the progress line's end from a run's measurements.

    Returns:
        The measurements of the measured rounds, each with ``round`` (0-based) and ``mode`` added.
    """
    runs: list[Run] = []
    for round_index in range(-warmup, repeats):
        tag = "warm-up" if round_index < 0 else f"round {round_index + 1}/{repeats}"
        for group in groups:
            for mode in rotated(modes, round_index):
                print(f"[{tag}] {'' if group is None else f'{group} / '}{mode} ...", end=" ", flush=True)
                outcome = run(group, mode, round_index)
                measured = outcome if isinstance(outcome, list) else [outcome]
                print(summary(measured) if summary else "done", flush=True)
                if round_index >= 0:
                    runs += [{**item, "round": round_index, "mode": mode} for item in measured]
    return runs


def select(runs: list[Run], **where: Any) -> list[Run]:
    """The runs whose fields have the given values."""
    return [run for run in runs if all(run.get(key) == value for key, value in where.items())]


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that are not None (None if there are none)."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Minimum, median and maximum of the values that are not None, and the values (None without any)."""
    present = [value for value in values if value is not None]
    if not present:
        return {"min": None, "median": None, "max": None, "values": []}
    return {"min": min(present), "median": statistics.median(present), "max": max(present), "values": present}


def ratio_spread(runs: list[Run], key: str, numerator: dict[str, Any], denominator: dict[str, Any]) -> dict[str, Any]:
    """The spread of the per-round ratios of a measurement: the run matching ``numerator`` over the run matching
    ``denominator`` of the same round (rounds without both, or with a zero or missing denominator, are left out).

    Args:
        runs: Every run.
        key: The measurement.
        numerator: Field values of the runs above the line (for example ``{"mode": "async"}``).
        denominator: Field values of the runs below it.

    Returns:
        See :func:`spread`.
    """
    above = {run["round"]: run.get(key) for run in select(runs, **numerator)}
    below = {run["round"]: run.get(key) for run in select(runs, **denominator)}
    return spread(
        [above[index] / below[index] for index in sorted(above) if above[index] is not None and below.get(index)]
    )


def format_spread(value: dict[str, Any], digits: int = 2, suffix: str = "x") -> str:
    """A spread as ``median [min-max]`` ("-" without values)."""
    if value["median"] is None:
        return "-"
    return f"{value['median']:.{digits}f}{suffix} [{value['min']:.{digits}f}-{value['max']:.{digits}f}]"
