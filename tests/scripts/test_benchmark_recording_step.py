# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Runs the recording step benchmark (``--quick``) in a subprocess and checks its report (no timing assertions).

Isaac Lab 3.0.0's side runs when the upstream check's environment is built; otherwise the output says it was not
measured.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES = ["16 envs", "64 envs", "16 envs + camera"]


@pytest.mark.slow
@pytest.mark.timeout(280)
def test_quick_benchmark_writes_a_complete_report(run_benchmark, tmp_path: Path) -> None:
    """Every round runs each recorder once in a rotated order, each measuring every case; rows hold the spreads."""
    completed = run_benchmark("benchmark_recording_step", "--quick", "--devices", "cpu", "--output_dir", str(tmp_path))

    report = json.loads((tmp_path / "recording_step.json").read_text())
    assert report["args"]["quick"] is True and report["args"]["repeats"] == 2
    assert report["machine"]["git_commit"] and report["machine"]["load_average_start"]
    modes = ["this_project", "isaaclab_3.0.0"] if report["upstream"]["python"] else ["this_project"]
    if len(modes) == 1:
        assert "Isaac Lab 3.0.0's recorder is not measured" in completed.stdout
    runs = report["runs"]
    assert len(runs) == 2 * len(modes) * len(CASES)
    for round_index, order in enumerate((modes, modes[::-1])):
        assert [run["mode"] for run in runs if run["round"] == round_index][:: len(CASES)] == order
    for run in runs:
        assert run["case"] in CASES and run["device"] == "cpu" and run["first_ms"] > 0 and run["steady_ms"] > 0
        ours = run["mode"] == "this_project"
        assert (Path(run["isaaclab"]) == REPO_ROOT / "source" / "isaaclab" / "isaaclab") is ours, run["isaaclab"]
    assert [row["case"] for row in report["rows"]] == CASES
    for row in report["rows"]:
        assert len(row["this_project_steady_ms"]["values"]) == 2
        assert len(row["ratio_steady_ms"]["values"]) == (2 if len(modes) == 2 else 0)
    assert report["rows"][0]["target"] == 1.0 and report["rows"][1]["target"] is None
    table = (tmp_path / "recording_step.md").read_text()
    assert re.search(r"\| 16 envs \+ camera +\| cpu +\|", table)
    assert "CUDA: not measured" in table
    assert (tmp_path / "recording_step.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
