# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The recorder memory benchmark: its way of counting held bytes, and a ``--quick`` run in a subprocess (no timing
or RSS assertions: RSS depends on the allocator)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

from isaaclab.utils.datasets import EpisodeData

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "benchmarks" / "benchmark_recorder_memory.py"


def _load_script() -> ModuleType:
    """Import the benchmark script as a module."""
    spec = importlib.util.spec_from_file_location("benchmark_recorder_memory", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_held_bytes_count_the_whole_storage_behind_a_view() -> None:
    """A row view keeps its whole batch allocated: held bytes count the batch, nbytes only the row."""
    benchmark = _load_script()
    batch = torch.zeros(8, 16, 16, 3, dtype=torch.uint8)
    views = EpisodeData()
    views.append_owned("obs/camera", batch[0])
    clones = EpisodeData()
    clones.append_owned("obs/camera", batch[0].clone())

    assert views.nbytes == clones.nbytes == batch[0].nbytes
    assert benchmark.storage_bytes(benchmark.episode_tensors(views)) == batch.nbytes
    assert benchmark.storage_bytes(benchmark.episode_tensors(clones)) == batch[0].nbytes
    # two views of one storage count it once
    assert benchmark.storage_bytes([batch[0], batch[1]]) == batch.nbytes


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quick_benchmark_writes_a_complete_report(tmp_path: Path) -> None:
    """The quick run reports counted and held bytes per point, says device memory was not measured on the CPU, and
    shows the emulated row views holding more than they count."""
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--modes", "async", "row_views", "--output_dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=230,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    report = json.loads((out / "recorder_memory.json").read_text())
    assert report["device_memory_measured"] is False and "not measured" in report["device_memory"]
    assert "not measured" in completed.stdout
    rows = {row["mode"]: row for row in report["rows"]}
    assert set(rows) == {"async", "row_views"}
    runs = {run["mode"]: run for run in report["runs"]}
    for mode, run in runs.items():
        assert run["peak_device_growth"] is None and run["episodes_written"] == 2, mode
        assert set(run["points"]) == {
            "round1_before_export",
            "round1_after_export",
            "round2_before_export",
            "round2_after_export",
            "after_drain",
        }
        after = run["points"]["round2_after_export"]
        assert after["bytes_live"] == 0 and after["bytes_queued"] > 0 and after["rss_growth"] is not None
        assert run["points"]["after_drain"]["bytes_counted"] == 0
    # the recorder's own episodes hold what they count; row views hold whole batches (4 envs)
    assert runs["async"]["points"]["round2_after_export"]["held_over_counted"] == pytest.approx(1.0)
    assert runs["row_views"]["points"]["round2_after_export"]["held_over_counted"] == pytest.approx(4.0, rel=0.05)
    table = (out / "recorder_memory.md").read_text()
    assert "| mode | point | queued MB |" in table and "not measured (no CUDA)" in table
    assert (out / "recorder_memory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
