# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""End-to-end test of ``scripts/benchmarks/benchmark_mimic_generation.py`` in its ``--quick`` configuration (two
interleaved repeat rounds; no timing assertions).

The script runs from the repository root so that it shares the cached source dataset under ``datasets/source/``
with the other Mimic tools (``--quick`` uses a 2-demo source dataset, built there in a few seconds on first use).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import h5py
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "benchmarks" / "benchmark_mimic_generation.py"
WORKLOADS = ("state", "camera")
MODES = ("no_export", "sync", "async", "async_offload")
RATIO_FIELDS = ("loop_ratio_to_no_export", "wall_ratio_to_no_export", "loop_ratio_to_sync", "wall_ratio_to_sync")
ROW_FIELDS = (
    "group",
    "generation_num_trials",
    "loop_seconds",
    "wall_seconds",
    "loop_seconds_all",
    "wall_seconds_all",
    *RATIO_FIELDS,
    "export_call_seconds",
    "main_thread_waiting_seconds",
    "blocked_seconds",
    "write_throughput_mb_s",
    "peak_queue_depth",
    "peak_rss_mb",
    "peak_cuda_allocated_mb",
    "demos_written",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the benchmark once with ``--quick`` into a temporary folder."""
    output_dir = tmp_path_factory.mktemp("benchmark")
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeats", "2", "--output_dir", str(output_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert process.returncode == 0, f"stdout:\n{process.stdout[-4000:]}\nstderr:\n{process.stderr[-4000:]}"
    return process, output_dir


@pytest.mark.slow
def test_quick_benchmark_report(quick_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    """The JSON report has machine info, the arguments, one row per workload and mode with the spread of the
    per-round ratios, the targets and identity checks, and every run of both rounds in rotated mode order."""
    _, output_dir = quick_run
    report = json.loads((output_dir / "benchmark_mimic_generation.json").read_text())

    assert {"cpu_count", "torch", "platform"} <= set(report["machine"])
    assert report["args"]["quick"] is True and report["args"]["repeats"] == 2
    assert report["args"]["num_envs"] == 2 and report["args"]["generation_num_trials"] == [2]
    assert report["command"].startswith("benchmark_mimic_generation.py --quick")
    rows = {(row["workload"], row["mode"]): row for row in report["rows"]}
    assert set(rows) == {(workload, mode) for workload in WORKLOADS for mode in MODES}
    for (workload, mode), row in rows.items():
        assert all(field in row for field in ROW_FIELDS), sorted(row)
        assert row["group"] == f"{workload}/2" and row["repeats"] == 2
        assert row["wall_seconds"] >= row["loop_seconds"] > 0
        assert row["peak_rss_mb"] > 0
        assert row["peak_cuda_allocated_mb"] is None  # CPU run
        assert row["demos_written"] == (0 if mode == "no_export" else 2)
        for field in RATIO_FIELDS:
            ratio = row[field]
            assert len(ratio["values"]) == 2 and ratio["min"] <= ratio["median"] <= ratio["max"], (field, ratio)
        if mode != "no_export":
            assert row["write_throughput_mb_s"] > 0
    for workload in WORKLOADS:
        group = f"{workload}/2"
        assert report["ratios"][group]["no_export"]["loop_to_no_export"]["median"] == pytest.approx(1.0)
        assert report["ratios"][group]["sync"]["wall_to_sync"]["median"] == pytest.approx(1.0)
        assert set(report["ratios"][group]) == set(MODES)
        assert report["identical"][group]["identical"] is True
        # two rounds of sync, async and async_offload: every dataset but the reference compared
        assert len(report["identical"][group]["compared"]) == 5
    targets = {(check["group"], check["mode"], check["target"]) for check in report["targets"]}
    assert targets == {
        (f"{workload}/2", mode, target)
        for workload in WORKLOADS
        for mode in ("async", "async_offload")
        for target in ("loop_vs_no_export", "wall_vs_no_export", "wall_vs_sync")
    }
    runs = report["runs"]
    assert len(runs) == 2 * len(WORKLOADS) * len(MODES)
    first_round = [run["mode"] for run in runs if run["repeat"] == 0][: len(MODES)]
    second_round = [run["mode"] for run in runs if run["repeat"] == 1][: len(MODES)]
    assert first_round == list(MODES) and second_round == [*MODES[1:], MODES[0]]


@pytest.mark.slow
def test_quick_benchmark_outputs(quick_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    """The markdown table is written and printed, the chart is a PNG, and the generated datasets are cleaned up."""
    process, output_dir = quick_run
    table = (output_dir / "benchmark_mimic_generation.md").read_text()
    assert "| workload | demos | mode | loop s | loop / no_export | loop + drain s |" in table
    assert "| camera | 2 | async_offload |" in table
    assert "Targets of the asynchronous modes" in table
    assert table.strip() in process.stdout
    assert "could not be measured" in process.stdout
    png = output_dir / "benchmark_mimic_generation.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(output_dir.rglob("*.hdf5"))


def _load_script() -> ModuleType:
    """Import the benchmark script as a module."""
    spec = importlib.util.spec_from_file_location("benchmark_mimic_generation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _fake_result(mode: str, output_file: str | None) -> dict[str, Any]:
    """A run result as a run's process reports it, with only the fields the report needs."""
    return {
        "name": f"state-1demos-{mode}-r0",
        "group": "state/1",
        "workload": "state",
        "generation_num_trials": 1,
        "mode": mode,
        "repeat": 0,
        "output_file": output_file,
        "loop_seconds": 1.0,
        "wall_seconds": 1.0,
        "demos_written": 0 if output_file is None else 1,
    }


def test_differing_datasets_fail_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If an async dataset differs from the sync one, the run reports it and exits with status 1, keeping the files."""
    benchmark = _load_script()
    files = {}
    for mode, value in (("sync", 1.0), ("async", 2.0)):
        files[mode] = str(tmp_path / f"{mode}.hdf5")
        with h5py.File(files[mode], "w") as file:
            file.create_dataset("data/demo_0/actions", data=[[value]])
    results = [
        _fake_result("no_export", None),
        _fake_result("sync", files["sync"]),
        _fake_result("async", files["async"]),
    ]
    monkeypatch.setattr(benchmark, "run_jobs", lambda jobs: results)

    output_dir = tmp_path / "out"
    argv = ["--workloads", "state", "--modes", "no_export,sync,async", "--generation_num_trials", "1"]
    argv += ["--repeats", "1", "--input_file", files["sync"]]
    status = benchmark.main([*argv, "--output_dir", str(output_dir)])

    assert status == 1
    report = json.loads((output_dir / "benchmark_mimic_generation.json").read_text())
    check = report["identical"]["state/1"]
    assert check["identical"] is False
    assert check["reference"] == "state-1demos-sync-r0"
    assert check["diffs"]["state-1demos-async-r0"] == ["/data/demo_0/actions: values differ"]
    for mode in ("no_export", "sync", "async"):
        assert report["ratios"]["state/1"][mode]["wall_to_no_export"]["median"] == 1.0
    assert "DIFFERENT" in (output_dir / "benchmark_mimic_generation.md").read_text()
    assert Path(files["async"]).is_file()


@pytest.mark.slow
def test_quick_benchmark_lerobot_mode(tmp_path: Path) -> None:
    """``async_lerobot`` writes LeRobot datasets: its camera bytes are the video files, measured beside the HDF5's,
    its targets are checked, and its datasets are left out of the HDF5 identity check."""
    command = [
        sys.executable,
        str(SCRIPT),
        "--quick",
        "--workloads",
        "camera",
        "--modes",
        "no_export,sync,async_lerobot",
    ]
    process = subprocess.run(
        [*command, "--output_dir", str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=280
    )
    assert process.returncode == 0, f"stdout:\n{process.stdout[-4000:]}\nstderr:\n{process.stderr[-4000:]}"
    report = json.loads((tmp_path / "benchmark_mimic_generation.json").read_text())
    rows = {row["mode"]: row for row in report["rows"]}
    assert rows["async_lerobot"]["demos_written"] == rows["sync"]["demos_written"] == 2
    assert rows["async_lerobot"]["camera_bytes"] > 0 and rows["sync"]["camera_bytes"] > 0
    assert rows["no_export"]["camera_bytes"] is None
    assert {check["mode"] for check in report["targets"]} == {"async_lerobot"}
    assert report["identical"]["camera/2"]["identical"] is None  # one HDF5 dataset: nothing to compare
    assert "camera MB on disk" in (tmp_path / "benchmark_mimic_generation.md").read_text()
