# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Runs the recorder export benchmark (``--quick``) in a subprocess and checks its report (no timing assertions)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "scripts", "benchmarks", "benchmark_recorder_export.py")
MODES = ("no_export", "sync", "async", "async_offload")

RUN_FIELDS = {
    "payload",
    "episode_length",
    "mode",
    "repeat",
    "num_envs",
    "episodes",
    "export_calls",
    "steps",
    "episode_mb",
    "export_hold_mean_ms",
    "export_hold_p95_ms",
    "export_hold_max_ms",
    "export_seconds",
    "loop_wall_s",
    "loop_s_before_close",
    "drain_s",
    "writer_throughput_mb_s",
    "write_seconds",
    "blocked_seconds",
    "peak_queue_depth",
    "peak_queue_mb",
    "episodes_written",
    "mb_written",
    "file_mb",
    "peak_rss_mb",
    "rss_growth_mb",
    "peak_device_mb",
    "peak_device_growth_mb",
    "device_memory",
}
RATIO_FIELDS = ("loop_ratio_to_no_export", "wall_ratio_to_no_export", "wall_ratio_to_sync", "hold_ratio_to_sync")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_quick_benchmark_writes_a_complete_report(tmp_path):
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--repeats", "2", "--output_dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    assert not os.path.exists(out / "datasets"), "dataset files are removed unless --keep_files"
    assert (out / "recorder_export.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "recorder_export.json").read_text())

    meta = report["meta"]
    assert meta["device"] == "cpu" and meta["args"]["quick"] is True and meta["args"]["repeats"] == 2
    assert "not measured" in meta["device_memory"]
    runs = report["runs"]
    configs = {(payload, length, mode) for payload in ("state", "cameras") for length in (16, 32) for mode in MODES}
    # 2 payloads x 2 lengths x 4 modes x 2 rounds, the modes of a round in a rotated order
    assert len(runs) == 2 * len(configs)
    assert {(r["payload"], r["episode_length"], r["mode"]) for r in runs} == configs
    first_modes = [r["mode"] for r in runs if r["repeat"] == 0][:4]
    second_modes = [r["mode"] for r in runs if r["repeat"] == 1][:4]
    assert first_modes == list(MODES) and second_modes == [*MODES[1:], MODES[0]]
    for run in runs:
        assert set(run) >= RUN_FIELDS, RUN_FIELDS - set(run)
        where = f"{run['payload']}/{run['episode_length']}/{run['mode']}/r{run['repeat']}"
        # every env exported one episode; all were written, except without export
        assert run["episodes"] == run["num_envs"] == 2, where
        assert run["episodes_written"] == (0 if run["mode"] == "no_export" else 2), where
        for key in ("export_hold_mean_ms", "export_hold_p95_ms", "loop_wall_s", "peak_rss_mb", "episode_mb"):
            assert math.isfinite(run[key]) and run[key] > 0, f"{where}: {key} = {run[key]}"
        if run["mode"] == "no_export":
            assert run["mb_written"] == 0 and run["file_mb"] == 0 and run["peak_queue_depth"] == 0, where
        else:
            for key in ("writer_throughput_mb_s", "mb_written", "file_mb"):
                assert math.isfinite(run[key]) and run[key] > 0, f"{where}: {key} = {run[key]}"
        assert run["export_hold_p95_ms"] <= run["export_hold_max_ms"] + 1e-9
        assert run["loop_wall_s"] >= run["drain_s"] and run["loop_wall_s"] >= run["loop_s_before_close"]
        # on the CPU device memory is reported as not measured, never as a number
        assert run["peak_device_mb"] is None and "not measured" in run["device_memory"]
        if run["mode"] == "sync":
            assert run["peak_queue_depth"] == 0
        elif run["mode"] != "no_export":
            assert run["peak_queue_depth"] >= 1

    rows = {(r["payload"], r["episode_length"], r["mode"]): r for r in report["rows"]}
    assert set(rows) == configs
    for (_, _, mode), row in rows.items():
        assert row["repeats"] == 2
        for field in RATIO_FIELDS:
            ratio = row[field]
            assert len(ratio["values"]) == 2 and ratio["min"] <= ratio["median"] <= ratio["max"], (field, ratio)
        if mode == "no_export":
            assert row["loop_ratio_to_no_export"]["median"] == pytest.approx(1.0)
        if mode == "sync":
            assert row["hold_ratio_to_sync"]["median"] == pytest.approx(1.0)
    # the camera payload is larger than the state-only one
    sizes = {(r["payload"], r["episode_length"]): r["episode_mb"] for r in report["rows"] if r["mode"] == "sync"}
    assert sizes[("cameras", 32)] > sizes[("state", 32)] and sizes[("state", 32)] > sizes[("state", 16)]

    table = (out / "recorder_export.md").read_text()
    assert "| payload |" in table and "loop + drain / no_export" in table and "not measured (CPU)" in table
    assert "| cameras | 32 | " in table and "| no_export |" in table
    assert "| payload |" in completed.stdout  # the table is printed too
