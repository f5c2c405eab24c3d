# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Benchmark distributed Mimic generation on Ray: demos per second with 1, 2, ... workers, and the shard merge.

Runs ``generate_distributed`` on the embedded cube-stacking task (state only) once per worker count and repeat, on
one Ray instance started for the whole benchmark (or the cluster of ``--ray_address``), so Ray's own start is not
timed; starting the workers' processes is. Each worker has ``--num_envs`` environments and, with a CUDA device,
its own GPU: on a machine with several GPUs the same command scales across them (worker counts above the number of
GPUs are skipped, with a note). The default device is CUDA when torch sees one, else the CPU.

Measured per worker count (the median over the repeats):

* ``demos/s``: demos of the merged dataset per second of the run (from starting the workers to the last one
  ending: worker start-up included), and its speed-up over the first worker count,
* ``steady demos/s``: the sum over the workers of each one's demos per second of generation (start-up excluded),
* the merge of the run's shards (MB, s, MB/s).

Then the merge alone is measured on larger input: ``--merge_copies`` copies of the last run's dataset merged into
one file (MB/s, demos/s). Results go to ``<output_dir>/benchmark_scale_out.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_scale_out.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_scale_out.py --workers 1,2,4,8 --generation_num_trials 200
    ./isaaclab.sh -p scripts/benchmarks/benchmark_scale_out.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import torch

from isaaclab_mimic.datagen.dataset_merge import merge_datasets
from isaaclab_mimic.tools.source_dataset import DEFAULT_NUM_SOURCE_DEMOS, DEFAULT_TASK, ensure_source_dataset

RESULT_NAME = "benchmark_scale_out"
"""Base name of the result files."""

RUNS_DIR_NAME = "benchmark_scale_out_runs"
"""Scratch folder under the output folder (the runs' datasets); replaced on every run and removed at the end."""

DEFAULTS: dict[str, Any] = {"generation_num_trials": 20, "repeats": 1, "merge_copies": 16, "source_num_demos": None}
"""Defaults of the size arguments."""

QUICK: dict[str, Any] = {"generation_num_trials": 2, "repeats": 1, "merge_copies": 2, "source_num_demos": 2}
"""Size arguments of ``--quick`` (a tiny run for CI); explicit arguments still win."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``--quick`` fills in the size arguments not given explicitly)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=_counts, default=[1, 2], help="Worker counts to run, e.g. 1,2,4.")
    parser.add_argument("--generation_num_trials", type=_positive_int, default=None, help="Demos per run (20).")
    parser.add_argument("--num_envs", type=_positive_int, default=1, help="Environments per worker.")
    parser.add_argument("--repeats", type=_positive_int, default=None, help="Runs per worker count (median; 1).")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu or cuda.")
    parser.add_argument("--ray_address", default=None, help="A Ray cluster to run on (default: a local instance).")
    parser.add_argument(
        "--async_write", action=argparse.BooleanOptionalAction, default=True, help="Asynchronous export (default on)."
    )
    parser.add_argument("--seed", type=int, default=1, help="Seed of every run.")
    parser.add_argument("--merge_copies", type=_positive_int, default=None, help="Inputs of the merge test (16).")
    parser.add_argument("--input_file", default=None, help="Annotated source dataset (default: built and cached).")
    parser.add_argument(
        "--source_num_demos",
        type=_positive_int,
        default=None,
        help=f"Demos of the cached source dataset to build/use (default: {DEFAULT_NUM_SOURCE_DEMOS}).",
    )
    parser.add_argument("--output_dir", default="./benchmark_results", help="Folder of the result files.")
    parser.add_argument(
        "--quick", action="store_true", help="A tiny run for CI: 2 trials, 2 merge inputs, a 2-demo source dataset."
    )
    args = parser.parse_args(argv)
    for key, default in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else default)
    if args.source_num_demos is None:
        args.source_num_demos = DEFAULT_NUM_SOURCE_DEMOS
    return args


def _positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _counts(text: str) -> list[int]:
    """An argparse type: comma-separated positive integers, sorted, without duplicates."""
    try:
        counts = sorted({_positive_int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got '{text}'") from None
    if not counts:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got '{text}'")
    return counts


"""
Running.
"""


def runnable_worker_counts(counts: list[int], device: str, cluster_resources: dict[str, float]) -> list[int]:
    """The worker counts the cluster can run at once (one CPU each, and one GPU each on CUDA)."""
    limit = cluster_resources.get("CPU", 0)
    if torch.device(device).type == "cuda":
        limit = min(limit, cluster_resources.get("GPU", 0))
    return [count for count in counts if count <= limit]


def run_generation(args: argparse.Namespace, input_file: str, runs_dir: str, num_workers: int, repeat: int) -> dict:
    """One distributed generation; returns its measurements."""
    from isaaclab_mimic.datagen.distributed_generation import generate_distributed

    output_file = os.path.join(runs_dir, f"workers{num_workers}-r{repeat}.hdf5")
    start = time.perf_counter()
    summary = generate_distributed(
        DEFAULT_TASK,
        input_file,
        output_file,
        num_workers=num_workers,
        generation_num_trials=args.generation_num_trials,
        num_envs=args.num_envs,
        device=args.device,
        seed=args.seed,
        async_write=args.async_write,
        show_progress=False,
        log=lambda line: None,
    )
    wall = time.perf_counter() - start
    workers = [
        {
            "index": status.job.index,
            "host": status.progress.host,
            "demos": status.demos,
            "setup_seconds": status.progress.setup_seconds,
            "generation_seconds": status.progress.seconds,
            "demos_per_second": status.rate,
        }
        for status in summary.workers
    ]
    return {
        "num_workers": num_workers,
        "repeat": repeat,
        "output_file": output_file,
        "num_demos": summary.num_demos,
        "num_attempts": summary.num_attempts,
        "outcome": summary.outcome,
        "wall_seconds": wall,
        "generation_seconds": summary.generation_seconds,
        "demos_per_second": summary.demos_per_second,
        "steady_demos_per_second": sum(worker["demos_per_second"] for worker in workers),
        "merge_mb": summary.merge.input_bytes / 1e6,
        "merge_seconds": summary.merge.seconds,
        "merge_mb_per_second": summary.merge.throughput_mb_s,
        "workers": workers,
    }


def run_merge(dataset: str, copies: int, runs_dir: str) -> dict[str, Any]:
    """Merge ``copies`` copies of a dataset into one file; returns the size, time and throughput."""
    inputs = []
    for index in range(copies):
        inputs.append(os.path.join(runs_dir, f"merge_input_{index}.hdf5"))
        shutil.copyfile(dataset, inputs[-1])
    result = merge_datasets(inputs, os.path.join(runs_dir, "merged.hdf5"))
    return {
        "inputs": copies,
        "num_demos": result.num_demos,
        "mb": result.input_bytes / 1e6,
        "seconds": result.seconds,
        "mb_per_second": result.throughput_mb_s,
        "demos_per_second": result.num_demos / result.seconds if result.seconds > 0 else None,
    }


def summarize(runs: list[dict[str, Any]], counts: list[int]) -> list[dict[str, Any]]:
    """One row per worker count: medians over the repeats, and speed-ups over the first count."""
    keys = ("wall_seconds", "generation_seconds", "demos_per_second", "steady_demos_per_second", "merge_mb")
    keys += ("merge_seconds", "merge_mb_per_second")
    rows = []
    for count in counts:
        count_runs = [run for run in runs if run["num_workers"] == count]
        row = {"num_workers": count, "repeats": len(count_runs), "num_demos": count_runs[0]["num_demos"]}
        row.update({key: statistics.median(run[key] for run in count_runs) for key in keys})
        rows.append(row)
    for row in rows:
        row["speedup"] = row["demos_per_second"] / rows[0]["demos_per_second"]
        row["steady_speedup"] = row["steady_demos_per_second"] / rows[0]["steady_demos_per_second"]
    return rows


"""
Reports.
"""


def markdown_table(report: dict[str, Any]) -> str:
    """The results as a markdown document: the scaling table, the merge and the run's settings."""
    args, machine, merge = report["args"], report["machine"], report["merge"]
    lines = [
        "# Scale-out benchmark (distributed Mimic generation on Ray)",
        "",
        f"{args['generation_num_trials']} demos per run, {args['num_envs']} env(s) per worker, device"
        f" {args['device']}, {'async' if args['async_write'] else 'sync'} export, seed {args['seed']},"
        f" {args['repeats']} repeat(s) (median).",
        f"Machine: {machine['cpu_count']} CPUs, {machine['gpu_count']} GPUs, torch {machine['torch']}, Ray"
        f" {machine['ray']}, {machine['platform']}.",
        "",
        "| workers | demos | run s | demos/s | speed-up | steady demos/s | steady speed-up | merge MB | merge s |"
        " merge MB/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        cells = [
            str(row["num_workers"]),
            str(row["num_demos"]),
            f"{row['generation_seconds']:.1f}",
            f"{row['demos_per_second']:.2f}",
            f"{row['speedup']:.2f}x",
            f"{row['steady_demos_per_second']:.2f}",
            f"{row['steady_speedup']:.2f}x",
            f"{row['merge_mb']:.2f}",
            f"{row['merge_seconds']:.3f}",
            f"{row['merge_mb_per_second']:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Merge alone: {merge['inputs']} copies of a {merge['num_demos'] // merge['inputs']}-demo dataset,"
        f" {merge['mb']:.1f} MB, in {merge['seconds']:.2f} s: **{merge['mb_per_second']:.1f} MB/s**"
        f" ({merge['demos_per_second']:.0f} demos/s).",
    ]
    if report["skipped_worker_counts"]:
        skipped = ", ".join(map(str, report["skipped_worker_counts"]))
        lines.append(f"Skipped worker counts (more than the cluster's CPUs or GPUs): {skipped}.")
    return "\n".join(lines) + "\n"


def write_plot(path: str, rows: list[dict[str, Any]], title: str) -> None:
    """Bars of demos per second (whole run and steady) per worker count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    positions = range(len(rows))
    width = 0.38
    run = ax.bar([p - width / 2 for p in positions], [row["demos_per_second"] for row in rows], width, label="run")
    steady = [row["steady_demos_per_second"] for row in rows]
    steady_bars = ax.bar([p + width / 2 for p in positions], steady, width, label="steady (start-up excluded)")
    ax.bar_label(run, fmt="%.2f", fontsize=8)
    ax.bar_label(steady_bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(list(positions), [f"{row['num_workers']} worker(s)" for row in rows])
    ax.set_ylabel("demos per second")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine_info(ray: Any) -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "gpu_count": torch.cuda.device_count(),
        "torch": torch.__version__,
        "ray": ray.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cluster_resources": {key: value for key, value in ray.cluster_resources().items() if "node" not in key},
    }


"""
Main.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its reports."""
    args = parse_args(argv)
    import ray  # the 'ray' extra of isaaclab_mimic

    from isaaclab_mimic.datagen.ray_connection import connect_ray

    input_file = args.input_file or ensure_source_dataset(
        DEFAULT_TASK, device=args.device, num_demos=args.source_num_demos
    )
    runs_dir = os.path.join(args.output_dir, RUNS_DIR_NAME)
    shutil.rmtree(runs_dir, ignore_errors=True)
    os.makedirs(runs_dir)
    connect_ray(args.ray_address)
    try:
        machine = machine_info(ray)
        counts = runnable_worker_counts(args.workers, args.device, ray.cluster_resources())
        skipped = [count for count in args.workers if count not in counts]
        if skipped:
            print(f"[INFO] Skipping worker counts the cluster cannot run at once: {', '.join(map(str, skipped))}.")
        if not counts:
            print("[ERROR] The cluster cannot run any of the worker counts.", file=sys.stderr)
            return 1
        runs = []
        for repeat in range(args.repeats):
            for count in counts:
                print(f"[repeat {repeat + 1}/{args.repeats}] {count} worker(s) ...", end=" ", flush=True)
                runs.append(run_generation(args, input_file, runs_dir, count, repeat))
                print(f"{runs[-1]['num_demos']} demos, {runs[-1]['demos_per_second']:.2f} demos/s")
    finally:
        ray.shutdown()
    merge = run_merge(runs[-1]["output_file"], args.merge_copies, runs_dir)
    report = {
        "benchmark": RESULT_NAME,
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine,
        "args": vars(args),
        "source_dataset": input_file,
        "rows": summarize(runs, counts),
        "skipped_worker_counts": skipped,
        "merge": merge,
        "runs": runs,
    }
    shutil.rmtree(runs_dir, ignore_errors=True)

    base = os.path.join(args.output_dir, RESULT_NAME)
    with open(f"{base}.json", "w") as file:
        json.dump(report, file, indent=2)
    table = markdown_table(report)
    with open(f"{base}.md", "w") as file:
        file.write(table)
    write_plot(
        f"{base}.png", report["rows"], f"Mimic generation on Ray: {args.generation_num_trials} demos, {args.device}"
    )
    print(f"[INFO] Results: {base}.json, {base}.md, {base}.png\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
