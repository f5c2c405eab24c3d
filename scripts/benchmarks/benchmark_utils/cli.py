# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Command-line helpers: argument types, the options every benchmark has, and the sizes of ``--quick``."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def int_list(text: str) -> list[int]:
    """An argparse type: comma-separated positive integers, in the given order, without duplicates."""
    try:
        values = [positive_int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got '{text}'")
    return list(dict.fromkeys(values))


def name_list(choices: Iterable[str]) -> Callable[[str], list[str]]:
    """An argparse type: comma-separated names out of ``choices``, in the given order, without duplicates."""
    choices = list(choices)

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        if not names or any(name not in choices for name in names):
            raise argparse.ArgumentTypeError(f"expected names out of {', '.join(choices)}, got '{text}'")
        return list(dict.fromkeys(names))

    return parse


@dataclasses.dataclass(frozen=True)
class Size:
    """An option that sets how big a run is: a full run's value and ``--quick``'s."""

    type: Callable[[str], Any]
    """The argparse type."""
    default: Any
    """The value of a full run."""
    quick: Any
    """The value with ``--quick``."""
    help: str
    """What it sets."""


def benchmark_parser(description: str | None, sizes: dict[str, Size]) -> argparse.ArgumentParser:
    """A parser with the options every benchmark has (``--output_dir``, ``--quick``) and the size options.

    A size option left out takes its full run's or ``--quick``'s value: see :func:`parse_args`.

    Args:
        description: The script's docstring (shown by ``--help``).
        sizes: The size options, by name (``repeats``, the interleaved rounds, among them).

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output_dir", default="./benchmark_results", help="Folder of the result files.")
    parser.add_argument("--quick", action="store_true", help="A seconds-long run with tiny sizes, for the tests.")
    for name, size in sizes.items():
        values = f"(default: {_text(size.default)}; --quick: {_text(size.quick)})"
        parser.add_argument(f"--{name}", type=size.type, default=None, help=f"{size.help} {values}")
    return parser


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, sizes: dict[str, Size]
) -> argparse.Namespace:
    """Parse the command line; every size option left out takes ``--quick``'s value with ``--quick``, else its full
    run's (explicit arguments always win)."""
    args = parser.parse_args(argv)
    for name, size in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, size.quick if args.quick else size.default)
    return args


def _text(value: Any) -> str:
    """A size's value as typed on the command line."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)
