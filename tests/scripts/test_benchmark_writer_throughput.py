# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Runs the writer throughput benchmark (``--quick``) in a subprocess and checks its report (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "benchmarks" / "benchmark_writer_throughput.py"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_quick_benchmark_writes_a_complete_report(tmp_path: Path) -> None:
    """Every mode runs once per round in a rotated order; the writer's files hold h5py's values; reports are written."""
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--threads", "1", "2", "--output_dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    report = json.loads((out / "writer_throughput.json").read_text())
    modes = ["h5py_gzip", "h5py_none", "writer_none", "writer_gzip_1t", "writer_gzip_2t"]
    assert [row["mode"] for row in report["rows"]] == modes
    assert report["args"]["quick"] is True and report["args"]["repeats"] == 2
    assert report["data_mb"] > 0
    # every writer file holds the same values as plain h5py's
    assert report["checks"] == {mode: True for mode in modes[1:]}
    runs = report["runs"]
    assert len(runs) == 2 * len(modes)
    assert [run["mode"] for run in runs[: len(modes)]] == modes
    assert [run["mode"] for run in runs[len(modes) :]] == [*modes[1:], modes[0]]
    for row in report["rows"]:
        assert row["repeats"] == 2 and row["mb_s_min"] <= row["mb_s_median"] <= row["mb_s_max"]
        ratio = row["ratio_to_h5py_gzip"]
        assert ratio["min"] <= ratio["median"] <= ratio["max"] and len(row["ratios_to_h5py_gzip_all"]) == 2
        assert row["file_mb"] > 0
    assert report["rows"][0]["ratio_to_h5py_gzip"]["median"] == pytest.approx(1.0)
    table = (out / "writer_throughput.md").read_text()
    assert "| mode | MB/s (median) |" in table and "| writer_gzip_2t |" in table
    assert table.strip() in completed.stdout
    assert (out / "writer_throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.rglob("*.hdf5"))
