"""Runs the recorder export benchmark (``--quick``) in a subprocess and checks its report."""

from __future__ import annotations

import glob
import json
import math
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "scripts", "benchmarks", "benchmark_recorder_export.py")

RESULT_FIELDS = {
    "payload",
    "episode_length",
    "mode",
    "num_envs",
    "episodes",
    "export_calls",
    "steps",
    "episode_mb",
    "export_hold_mean_ms",
    "export_hold_p95_ms",
    "export_hold_max_ms",
    "hold_mean_ratio_vs_sync",
    "hold_p95_ratio_vs_sync",
    "loop_wall_s",
    "wall_ratio_vs_sync",
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


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_quick_benchmark_writes_a_complete_report(tmp_path):
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, SCRIPT, "--quick", "--output_dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    json_files = glob.glob(str(out / "recorder_export_*.json"))
    md_files = glob.glob(str(out / "recorder_export_*.md"))
    assert len(json_files) == 1 and len(md_files) == 1
    assert not os.path.exists(out / "datasets"), "dataset files are removed unless --keep_files"
    with open(json_files[0]) as file:
        report = json.load(file)

    meta = report["meta"]
    assert meta["device"] == "cpu" and meta["args"]["quick"] is True
    assert "not measured" in meta["device_memory"]
    results = report["results"]
    # 2 payloads x 2 lengths x 3 modes
    assert len(results) == 12
    assert {(r["payload"], r["episode_length"], r["mode"]) for r in results} == {
        (payload, length, mode)
        for payload in ("state", "cameras")
        for length in (16, 32)
        for mode in ("sync", "async", "async_offload")
    }
    for result in results:
        assert set(result) >= RESULT_FIELDS, RESULT_FIELDS - set(result)
        where = f"{result['payload']}/{result['episode_length']}/{result['mode']}"
        # every env exported one episode, all were written
        assert result["episodes"] == result["episodes_written"] == result["num_envs"] == 2, where
        for key in (
            "export_hold_mean_ms",
            "export_hold_p95_ms",
            "loop_wall_s",
            "writer_throughput_mb_s",
            "peak_rss_mb",
            "mb_written",
            "file_mb",
        ):
            assert math.isfinite(result[key]) and result[key] > 0, f"{where}: {key} = {result[key]}"
        assert result["export_hold_p95_ms"] <= result["export_hold_max_ms"] + 1e-9
        assert result["loop_wall_s"] >= result["drain_s"]
        # on the CPU device memory is reported as not measured, never as a number
        assert result["peak_device_mb"] is None and "not measured" in result["device_memory"]
        if result["mode"] == "sync":
            assert result["hold_mean_ratio_vs_sync"] == pytest.approx(1.0)
            assert result["peak_queue_depth"] == 0
        else:
            assert result["hold_mean_ratio_vs_sync"] > 0
            assert result["peak_queue_depth"] >= 1
    # the camera payload is larger than the state-only one
    sizes = {(r["payload"], r["episode_length"]): r["episode_mb"] for r in results if r["mode"] == "sync"}
    assert sizes[("cameras", 32)] > sizes[("state", 32)] and sizes[("state", 32)] > sizes[("state", 16)]

    with open(md_files[0]) as file:
        table = file.read()
    assert "| payload |" in table and "hold p95 ms" in table and "not measured (CPU)" in table
    assert "| payload |" in completed.stdout  # the table is printed too
