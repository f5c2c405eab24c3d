# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""End-to-end test of ``scripts/benchmarks/benchmark_mimic_generation.py`` in its ``--quick`` configuration (two
interleaved rounds; no timing assertions), and of its dataset check on made-up runs.

The script runs from the repository root so that it shares the cached source dataset under ``datasets/source/``
with the other Mimic tools (``--quick`` uses a 2-demo source dataset, built there in a few seconds on first use).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import h5py
import pytest

WORKLOADS = ("camera",)
"""The quick run's workloads: the camera one (the state workload differs only in the task; its dataset check is tested
below on made-up runs)."""
MODES = ("no_export", "sync", "async", "async_offload")
RATIOS = ("loop_to_no_export", "wall_to_no_export", "wall_to_sync")


@pytest.fixture(scope="module")
def quick_run(run_benchmark, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the benchmark once with ``--quick`` into a temporary folder."""
    output_dir = tmp_path_factory.mktemp("benchmark")
    process = run_benchmark(
        "benchmark_mimic_generation",
        "--quick",
        "--repeats",
        "2",
        "--workloads",
        ",".join(WORKLOADS),
        "--output_dir",
        str(output_dir),
    )
    return process, output_dir


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_benchmark_report(quick_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    """One row per workload and mode with the spread of the per-round ratios, the targets of the asynchronous modes,
    identical datasets, and every run of both rounds in rotated mode order."""
    _, output_dir = quick_run
    report = json.loads((output_dir / "benchmark_mimic_generation.json").read_text())

    assert {"cpu_count", "torch", "git_commit", "load_average_start", "load_average_end"} <= set(report["machine"])
    assert report["args"]["quick"] is True and report["args"]["repeats"] == 2
    assert report["args"]["num_envs"] == 2 and report["args"]["generation_num_trials"] == [2]
    assert report["command"].startswith("benchmark_mimic_generation.py --quick")
    rows = {(row["workload"], row["mode"]): row for row in report["rows"]}
    assert set(rows) == {(workload, mode) for workload in WORKLOADS for mode in MODES}
    for (workload, mode), row in rows.items():
        assert row["group"] == f"{workload}/2" and row["rounds"] == 2
        assert row["wall_seconds"] >= row["loop_seconds"] > 0 and row["peak_rss_mb"] > 0
        assert row["peak_cuda_mb"] is None  # CPU run
        assert row["demos_written"] == (0 if mode == "no_export" else 2)
        for field in RATIOS:
            ratio = row[field]
            assert len(ratio["values"]) == 2 and ratio["min"] <= ratio["median"] <= ratio["max"], (field, ratio)
        assert set(row["targets"]) == (set(RATIOS) if mode.startswith("async") else set())
        if mode != "no_export":
            assert row["write_mb_s"] > 0
    for workload in WORKLOADS:
        assert rows[(workload, "no_export")]["loop_to_no_export"]["median"] == pytest.approx(1.0)
        assert rows[(workload, "sync")]["wall_to_sync"]["median"] == pytest.approx(1.0)
        check = report["identical"][f"{workload}/2"]
        # two rounds of sync, async and async_offload: every dataset but the reference compared
        assert check["identical"] is True and len(check["compared"]) == 5
    runs = report["runs"]
    assert len(runs) == 2 * len(WORKLOADS) * len(MODES)
    for round_index, order in enumerate((MODES, (*MODES[1:], MODES[0]))):
        assert [run["mode"] for run in runs if run["round"] == round_index][: len(MODES)] == list(order)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_benchmark_outputs(quick_run: tuple[subprocess.CompletedProcess, Path]) -> None:
    """The markdown table is written and printed, the chart is a PNG, and the generated datasets are cleaned up."""
    process, output_dir = quick_run
    table = (output_dir / "benchmark_mimic_generation.md").read_text()
    assert "| workload | demos | mode" in table and "loop + drain / no_export" in table
    assert "| camera   | 2     | async_offload |" in table
    assert "Targets of the asynchronous modes" in table
    assert table.strip() in process.stdout
    assert "could not be measured" in process.stdout
    assert (output_dir / "benchmark_mimic_generation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(output_dir.rglob("*.hdf5"))


def test_differing_datasets_fail_the_run(load_benchmark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If an async dataset differs from the sync one, the run reports it and exits with status 1, keeping the files."""
    benchmark = load_benchmark("benchmark_mimic_generation")
    files = {}
    for mode, value in (("sync", 1.0), ("async", 2.0)):
        files[mode] = str(tmp_path / f"{mode}.hdf5")
        with h5py.File(files[mode], "w") as file:
            file.create_dataset("data/demo_0/actions", data=[[value]])

    def fake_worker(script: str, job: dict[str, Any]) -> dict[str, Any]:
        output = files.get(job["mode"]) if benchmark.MODES[job["mode"]].compared else None
        return {**job, "output_file": output, "loop_seconds": 1.0, "wall_seconds": 1.0, "demos_written": 1}

    monkeypatch.setattr(benchmark, "run_worker", fake_worker)
    argv = ["--workloads", "state", "--modes", "no_export,sync,async", "--generation_num_trials", "1"]
    argv += ["--repeats", "1", "--input_file", files["sync"], "--output_dir", str(tmp_path / "out")]
    assert benchmark.main(argv) == 1

    report = json.loads((tmp_path / "out" / "benchmark_mimic_generation.json").read_text())
    check = report["identical"]["state/1"]
    assert check["identical"] is False and check["reference"] == "state-1demos-sync-r0"
    assert check["diffs"]["state-1demos-async-r0"] == ["/data/demo_0/actions: values differ"]
    assert all(row["wall_to_no_export"]["median"] == 1.0 for row in report["rows"])
    assert "DIFFERENT" in (tmp_path / "out" / "benchmark_mimic_generation.md").read_text()
    assert Path(files["async"]).is_file()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_benchmark_lerobot_mode(run_benchmark, tmp_path: Path) -> None:
    """``async_lerobot`` writes LeRobot datasets: its camera bytes are the video files, measured beside the HDF5's,
    its targets are checked, and its datasets are left out of the HDF5 identity check."""
    modes = ["--workloads", "camera", "--modes", "no_export,sync,async_lerobot"]
    run_benchmark("benchmark_mimic_generation", "--quick", *modes, "--output_dir", str(tmp_path))
    report = json.loads((tmp_path / "benchmark_mimic_generation.json").read_text())
    rows = {row["mode"]: row for row in report["rows"]}
    assert rows["async_lerobot"]["demos_written"] == rows["sync"]["demos_written"] == 2
    assert rows["async_lerobot"]["camera_bytes"] > 0 and rows["sync"]["camera_bytes"] > 0
    assert rows["no_export"]["camera_bytes"] is None
    assert {mode for mode, row in rows.items() if row["targets"]} == {"async_lerobot"}
    assert report["identical"]["camera/2"]["identical"] is None  # one HDF5 dataset: nothing to compare
    assert "camera MB on disk" in (tmp_path / "benchmark_mimic_generation.md").read_text()
