# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Runs the recorder export benchmark (``--quick``) in a subprocess and checks its report (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

MODES = ["no_export", "sync", "async", "async_offload"]
RATIOS = ("hold_to_sync", "loop_to_no_export", "wall_to_no_export", "wall_to_sync")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_quick_benchmark_writes_a_complete_report(run_benchmark, tmp_path: Path) -> None:
    """Every (payload, length) runs every mode once per round in a rotated order; every env exports one episode."""
    completed = run_benchmark("benchmark_recorder_export", "--quick", "--repeats", "2", "--output_dir", str(tmp_path))

    report = json.loads((tmp_path / "recorder_export.json").read_text())
    assert report["args"]["quick"] is True and report["device_memory"] == "not measured (CPU)"
    assert "could not be measured" in completed.stdout
    runs = report["runs"]
    configs = {(payload, length) for payload in ("state", "cameras") for length in (16, 32)}
    assert len(runs) == 2 * len(configs) * len(MODES)
    for round_index, order in enumerate((MODES, [*MODES[1:], MODES[0]])):
        assert [run["mode"] for run in runs if run["round"] == round_index][: len(MODES)] == order
    for run in runs:
        assert (run["payload"], run["length"]) in configs and run["episodes"] == 2
        assert run["episodes_written"] == (0 if run["mode"] == "no_export" else 2)
        assert run["hold_p95_ms"] > 0 and run["wall_seconds"] >= run["loop_seconds"] > 0
        assert run["peak_device_mb"] is None
        if not run["mode"].startswith("async"):
            assert run["peak_queue_depth"] == 0
    rows = {(row["payload"], row["length"], row["mode"]): row for row in report["rows"]}
    assert set(rows) == {(*config, mode) for config in configs for mode in MODES}
    for (_, _, mode), row in rows.items():
        assert all(len(row[ratio]["values"]) == 2 for ratio in RATIOS)
        assert (row["write_mb_s"] is None) == (mode == "no_export")
    assert rows[("cameras", 32, "sync")]["episode_mb"] > rows[("state", 32, "sync")]["episode_mb"]
    assert rows[("state", 32, "sync")]["hold_to_sync"]["median"] == pytest.approx(1.0)
    table = (tmp_path / "recorder_export.md").read_text()
    assert "| payload |" in table and "loop + drain / no_export" in table and "not measured (CPU)" in table
    assert (tmp_path / "recorder_export.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
