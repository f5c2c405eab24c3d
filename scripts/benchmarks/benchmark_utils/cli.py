# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Command-line helpers: argument types, the options every benchmark has, and the sizes of ``--quick``."""

from __future__ import annotations

import argparse
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


def benchmark_parser(description: str | None) -> argparse.ArgumentParser:
    """A parser with the options every benchmark has: ``--output_dir``, ``--repeats`` and ``--quick``.

    ``--repeats`` defaults to None: :func:`parse_with_sizes` fills it in with the other sizes.

    Args:
        description: The script's docstring (shown by ``--help``).

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output_dir", default="./benchmark_results", help="Folder of the result files.")
    parser.add_argument("--repeats", type=positive_int, default=None, help="Interleaved rounds.")
    parser.add_argument("--quick", action="store_true", help="A seconds-long run with tiny sizes, for the tests.")
    return parser


def parse_with_sizes(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    defaults: dict[str, Any],
    quick: dict[str, Any],
) -> argparse.Namespace:
    """Parse the command line and fill in every size argument left out: from ``quick`` with ``--quick``, else from
    ``defaults`` (explicit arguments always win).

    Args:
        parser: The parser; the options named in ``defaults`` must default to None.
        argv: The arguments (None: ``sys.argv[1:]``).
        defaults: The sizes of a full run, by option name.
        quick: The sizes of ``--quick``, by option name (a name missing here takes its default).

    Returns:
        The parsed arguments.
    """
    args = parser.parse_args(argv)
    for name, default in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick.get(name, default) if args.quick else default)
    return args
