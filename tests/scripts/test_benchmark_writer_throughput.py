# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Runs the writer throughput benchmark (``--quick``) in a subprocess and checks its report (no timing assertions).

The repository itself stands in for the baseline tree, so the baseline's ``PYTHONPATH`` path is exercised. The
script runs from the repository root to share the cached source dataset under ``datasets/source/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITERS = ["this_project", "baseline", "isaaclab_3.0.0"]


@pytest.mark.slow
@pytest.mark.timeout(280)
def test_quick_benchmark_writes_a_complete_report(run_benchmark, tmp_path: Path) -> None:
    """Every round runs each writer once in a rotated order; the files hold the values of Isaac Lab 3.0.0's call."""
    out = tmp_path / "results"
    options = ["--threads", "1,2", "--baseline_source", str(REPO_ROOT), "--work_dir", str(tmp_path)]
    run_benchmark("benchmark_writer_throughput", "--quick", *options, "--output_dir", str(out))

    report = json.loads((out / "writer_throughput.json").read_text())
    assert report["args"]["quick"] is True and report["args"]["camera_sizes"] == [32]
    assert report["data"]["32"]["episodes"] >= 1 and report["data"]["32"]["camera_bytes"] > 0
    assert report["checks"] == {"32/this_project": True, "32/baseline": True}
    runs = report["runs"]
    # two rounds; the handler writers measure 1 and 2 threads, Isaac Lab 3.0.0's call once
    assert len(runs) == 2 * 5
    for round_index, order in enumerate((WRITERS, [*WRITERS[1:], WRITERS[0]])):
        modes = [run["mode"] for run in runs if run["round"] == round_index]
        assert list(dict.fromkeys(modes)) == order
    for run in runs:
        assert run["mb_s"] > 0 and run["file_bytes"] > 0 and run["camera_size"] == 32
        assert run["threads"] == (None if run["mode"] == "isaaclab_3.0.0" else run["threads"])
        assert (run["isaaclab"] is None) == (run["mode"] == "isaaclab_3.0.0")
    rows = {(row["writer"], row["threads"]): row for row in report["rows"]}
    assert set(rows) == {
        ("this_project", 1),
        ("this_project", 2),
        ("baseline", 1),
        ("baseline", 2),
        ("isaaclab_3.0.0", None),
    }
    assert len(rows[("this_project", 2)]["mb_s_vs_baseline"]["values"]) == 2
    assert rows[("this_project", 1)]["met"] in (True, False) and rows[("baseline", 1)]["met"] is None
    assert rows[("isaaclab_3.0.0", None)]["mb_s_vs_upstream"]["median"] == pytest.approx(1.0)
    table = (out / "writer_throughput.md").read_text()
    assert "| camera | writer" in table and "MB/s / baseline" in table
    assert (out / "writer_throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.rglob("*.hdf5")) and not list(tmp_path.rglob("*.npz"))
