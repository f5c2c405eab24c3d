# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""``scripts/benchmarks/benchmark_scale_out.py``: worker counts per device, the summary rows and the reports.

The runs themselves are ``generate_distributed`` and ``merge_datasets``, tested in ``tests/isaaclab_mimic``; here
the script's own logic runs on made-up measurements.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def benchmark(load_benchmark) -> ModuleType:
    """The benchmark script, imported as a module."""
    return load_benchmark("benchmark_scale_out")


def fake_run(num_workers: int, round_index: int, seconds: float) -> dict:
    """A run's measurements: 20 demos in ``seconds``, each worker generating for 80 % of it."""
    return {
        "num_workers": num_workers,
        "round": round_index,
        "num_demos": 20,
        "generation_seconds": seconds,
        "demos_per_second": 20 / seconds,
        "steady_demos_per_second": 20 / (0.8 * seconds),
        "merge_mb": 3.0,
        "merge_seconds": 0.1,
        "merge_mb_per_second": 30.0,
    }


def test_worker_counts_are_limited_by_cpus_and_on_cuda_by_gpus(benchmark: ModuleType) -> None:
    resources = {"CPU": 16.0, "GPU": 2.0}
    assert benchmark.runnable_worker_counts([1, 2, 4, 8], "cpu", resources) == [1, 2, 4, 8]
    assert benchmark.runnable_worker_counts([1, 2, 4, 8], "cuda", resources) == [1, 2]
    assert benchmark.runnable_worker_counts([1, 2], "cuda:0", {"CPU": 16.0}) == []
    assert benchmark.parse_command_line(["--workers", "4,1,2,2"]).workers == [1, 2, 4]
    assert benchmark.parse_command_line(["--no-async_write", "--quick"]).async_write is False
    with pytest.raises(SystemExit):
        benchmark.parse_command_line(["--workers", "0,2"])


def test_rows_are_medians_with_speedups_over_one_worker(benchmark: ModuleType) -> None:
    runs = [fake_run(1, 0, 10.0), fake_run(1, 1, 12.0), fake_run(1, 2, 20.0), fake_run(2, 0, 5.0)]
    rows = benchmark.summarize(runs, [1, 2])
    assert [row["rounds"] for row in rows] == [3, 1]
    assert rows[0]["generation_seconds"] == 12.0 and rows[0]["speedup"] == 1.0
    assert rows[1]["speedup"] == pytest.approx((20 / 5) / (20 / 12))
    assert rows[1]["steady_speedup"] == pytest.approx(12 / 5)


def test_reports_show_the_table_the_merge_and_a_chart(benchmark: ModuleType, tmp_path: Path) -> None:
    args = benchmark.parse_command_line(["--quick", "--output_dir", str(tmp_path)])
    report = benchmark.start_report(benchmark.NAME, args, [])
    report.update(ray={"version": "2.60.0", "gpus": 0}, skipped_worker_counts=[4])
    report.update(rows=benchmark.summarize([fake_run(1, 0, 10.0), fake_run(2, 0, 6.0)], [1, 2]))
    report["merge"] = {"inputs": 16, "num_demos": 320, "mb": 48.5, "seconds": 1.4, "mb_per_second": 34.6}
    report["merge"]["demos_per_second"] = 228.6
    panel = benchmark.Panel("demos per second", ["1", "2"], {"run": [2.0, 3.3]}, "demos/s")
    document = benchmark.write_results(str(tmp_path), "scale", "title", report, benchmark.sections(report), [panel])
    assert re.search(r"\| workers \| demos \| run s \| demos/s \| speed-up \| steady demos/s \|", document)
    assert re.search(r"\| +2 \| +20 \| +6\.0 \| +3\.33 \| +1\.67x \|", document)
    assert "16 copies of a 20-demo dataset, 48.5 MB, in 1.40 s: **34.6 MB/s**" in document
    assert "Skipped worker counts (more than the cluster's CPUs or GPUs): 4." in document
    assert (tmp_path / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(args, argparse.Namespace) and (tmp_path / "scale.json").is_file()
