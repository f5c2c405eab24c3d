# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The result files of a benchmark: ``<name>.json`` (everything), ``<name>.md`` (tables) and ``<name>.png`` (a chart).

Tables are made with PrettyTable in its markdown style; charts with matplotlib (imported only to draw one).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from prettytable import PrettyTable, TableStyle

from .machine import describe, load_average, machine_info


@dataclasses.dataclass
class Panel:
    """One panel of a bar chart: a group of bars per category, one bar per series."""

    title: str
    """The panel's title."""
    categories: list[str]
    """The x-axis categories."""
    series: dict[str, list[Any]]
    """Per series label, one value per category: a spread (median and range as error bar), a number, or None."""
    ylabel: str
    """The y-axis label."""
    log: bool = False
    """Whether the y-axis is logarithmic."""
    lines: dict[str, float] = dataclasses.field(default_factory=dict)
    """Horizontal reference lines (for example targets), by label."""


def start_report(name: str, args: argparse.Namespace, argv: Sequence[str] | None, device: str = "cpu") -> dict:
    """The head of a report: the benchmark, when and how it was started, the machine and the arguments."""
    command = list(sys.argv[1:] if argv is None else argv)
    return {
        "benchmark": name,
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([f"{name}.py", *command]),
        "machine": machine_info(device),
        "args": vars(args),
    }


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    """A number for a table ("-" if missing)."""
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], text_columns: int = 1) -> str:
    """A markdown table: the first ``text_columns`` columns left-aligned, the others right-aligned."""
    table = PrettyTable(list(header))
    table.set_style(TableStyle.MARKDOWN)
    table.align = "r"
    for name in header[:text_columns]:
        table.align[name] = "l"
    for row in rows:
        table.add_row(["-" if cell is None else cell for cell in row])
    return table.get_string()


def write_results(
    output_dir: str, name: str, title: str, report: dict, sections: Sequence[str], panels: Sequence[Panel]
) -> str:
    """Write ``<name>.json``, ``<name>.md`` and ``<name>.png`` under the output folder and print the markdown.

    Args:
        output_dir: The folder (created if missing).
        name: The files' base name.
        title: The document's and the chart's title.
        report: Everything measured (its machine gets the load average at the end).
        sections: The markdown document's paragraphs and tables, after its title and the machine's line.
        panels: The chart's panels.

    Returns:
        The markdown document.
    """
    os.makedirs(output_dir, exist_ok=True)
    report["machine"]["load_average_end"] = load_average()
    base = os.path.join(output_dir, name)
    with open(f"{base}.json", "w") as file:
        json.dump(report, file, indent=2)
    document = "\n\n".join([f"# {title}", f"Command: `{report['command']}`", describe(report["machine"]), *sections])
    with open(f"{base}.md", "w") as file:
        file.write(document + "\n")
    write_chart(f"{base}.png", title, panels)
    print(f"\n{document}\n\n[INFO] Results: {base}.json, {base}.md, {base}.png", flush=True)
    return document


def write_chart(path: str, title: str, panels: Sequence[Panel]) -> None:
    """Draw the panels side by side (bars with their range as error bars) and save the chart as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widths = [max(4.0, 0.45 * len(panel.categories) * max(1, len(panel.series))) for panel in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(sum(widths) + 1, 4.5), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        width = 0.8 / max(1, len(panel.series))
        for index, (label, values) in enumerate(panel.series.items()):
            medians, low, high = [], [], []
            for value in values:
                middle, bottom, top = _bar(value)
                medians.append(middle)
                low.append(middle - bottom)
                high.append(top - middle)
            positions = [spot + (index - (len(panel.series) - 1) / 2) * width for spot in range(len(values))]
            bars = ax.bar(positions, medians, width, yerr=[low, high], capsize=2, label=label)
            ax.bar_label(bars, labels=[_number(value) for value in medians], fontsize=7)
        for label, value in panel.lines.items():
            ax.axhline(value, color="gray", linestyle="--", linewidth=0.8)
            ax.annotate(label, (ax.get_xlim()[0], value), fontsize=7, color="gray", va="bottom")
        labels = ["\n".join(textwrap.fill(line, 14) for line in name.split("\n")) for name in panel.categories]
        ax.set_xticks(range(len(panel.categories)), labels, fontsize=8)
        ax.set_yscale("log" if panel.log else "linear")
        ax.set_ylabel(panel.ylabel, fontsize=8)
        ax.set_title(panel.title, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bar(value: Any) -> tuple[float, float, float]:
    """A bar's height and range: from a spread, a number, or nothing (0)."""
    if isinstance(value, dict):
        if value["median"] is None:
            return 0.0, 0.0, 0.0
        return value["median"], value["min"], value["max"]
    return (float(value),) * 3 if value is not None else (0.0, 0.0, 0.0)


def _number(value: float) -> str:
    """A bar's label: three significant digits, whole numbers from 1000 on, nothing for an empty bar."""
    if not value:
        return ""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
