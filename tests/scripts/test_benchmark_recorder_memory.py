# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Runs the recorder memory benchmark (``--quick``) in a subprocess and checks its report (no timing or RSS
assertions: RSS depends on the allocator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

POINTS = {"round1_before_export", "round1_after_export", "round2_before_export", "round2_after_export", "after_drain"}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quick_benchmark_writes_a_complete_report(run_benchmark, tmp_path: Path) -> None:
    """Counted bytes are the recorded steps plus the queued episodes, the pools hold at least what is in use, the
    queue empties at the drain, and device memory is reported as not measured on the CPU."""
    completed = run_benchmark(
        "benchmark_recorder_memory", "--quick", "--modes", "async,sync", "--output_dir", str(tmp_path)
    )

    report = json.loads((tmp_path / "recorder_memory.json").read_text())
    assert "not measured" in report["device_memory"] and "could not be measured" in completed.stdout
    runs = {run["mode"]: run for run in report["runs"]}
    assert [run["mode"] for run in report["runs"]] == ["async", "sync"]
    for mode, run in runs.items():
        points = run["points"]
        assert set(points) == POINTS and run["episodes_written"] == 2 and run["peak_device_growth"] is None, mode
        for point in points.values():
            assert point["counted"] == point["recorded"] + point["queued"]
            assert point["held"] == point["pool"] + point["queued"] and point["pool"] >= point["in_use"]
            assert point["in_use"] >= point["recorded"] and point["device_growth"] is None
        # every env records every step: 20 steps of the whole batch; the exports and resets leave no step behind
        assert points["round2_before_export"]["recorded"] == 20 * run["step_batch_bytes"]
        assert points["round2_after_export"]["recorded"] == 0 and points["after_drain"]["counted"] == 0
        assert points["round2_before_export"]["rss_growth_after_trim"] is not None
    # the held writer keeps the async exports queued; sync writes them at once
    assert (
        runs["async"]["points"]["round2_after_export"]["queued"]
        > runs["async"]["points"]["round1_after_export"]["queued"]
        > 0
    )
    assert runs["sync"]["points"]["round2_after_export"]["queued"] == 0
    table = (tmp_path / "recorder_memory.md").read_text()
    assert "| mode " in table and "held / counted" in table and "not measured" in table
    assert (tmp_path / "recorder_memory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
