# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Benchmark distributed Mimic generation on Ray: demos per second with 1, 2, ... workers, and the shard merge.

Runs ``generate_distributed`` on the embedded cube-stacking task (state only) once per worker count and round (the
counts in an order rotated every round), on one Ray instance started for the whole benchmark (or the cluster of
``--ray_address``), so Ray's own start is not timed; starting the workers' processes is. Each worker has
``--num_envs`` environments and, with a CUDA device, its own GPU: on a machine with several GPUs the same command
scales across them (worker counts above the number of GPUs are skipped, with a note). The default device is CUDA
when torch sees one, else the CPU.

Measured per worker count (medians over the rounds):

* ``demos/s``: demos of the merged dataset per second of the run (from starting the workers to the last one
  ending: worker start-up included), and its speed-up over the first worker count,
* ``steady demos/s``: the sum over the workers of each one's demos per second of generation (start-up excluded),
* the merge of the run's shards (MB, s, MB/s).

Then the merge alone is measured on larger input: ``--merge_copies`` copies of the last run's dataset merged into
one file. Results: ``<output_dir>/benchmark_scale_out.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_scale_out.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_scale_out.py --workers 1,2,4,8 --generation_num_trials 200
    ./isaaclab.sh -p scripts/benchmarks/benchmark_scale_out.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import torch
from benchmark_utils.cli import Size, benchmark_parser, int_list, parse_args, positive_int
from benchmark_utils.report import Panel, fmt, markdown_table, start_report, write_results
from benchmark_utils.rounds import median, run_rounds, select

from isaaclab_mimic.datagen.dataset_merge import merge_datasets
from isaaclab_mimic.tools.source_dataset import DEFAULT_NUM_SOURCE_DEMOS, DEFAULT_TASK, ensure_source_dataset

NAME = "benchmark_scale_out"
"""Base name of the result files."""

MEASURES = ("generation_seconds", "demos_per_second", "steady_demos_per_second", "merge_mb", "merge_seconds")
MEASURES += ("merge_mb_per_second",)
"""The per-run measurements summarized by their median."""

SIZES = {
    "generation_num_trials": Size(positive_int, 20, 2, "Demos per run."),
    "merge_copies": Size(positive_int, 16, 2, "Inputs of the merge alone."),
    "source_num_demos": Size(positive_int, DEFAULT_NUM_SOURCE_DEMOS, 2, "Demos of the cached source dataset."),
    "repeats": Size(positive_int, 1, 1, "Interleaved rounds."),
}
"""The size options."""


def parse_command_line(argv: Sequence[str] | None = None) -> Any:
    """Parse the command line (``--quick`` fills in the sizes not given)."""
    parser = benchmark_parser(__doc__, SIZES)
    parser.add_argument("--workers", type=int_list, default=[1, 2], help="Worker counts to run, e.g. 1,2,4.")
    parser.add_argument("--num_envs", type=positive_int, default=1, help="Environments per worker.")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu or cuda.")
    parser.add_argument("--ray_address", default=None, help="A Ray cluster to run on (default: a local instance).")
    parser.add_argument("--async_write", action=argparse.BooleanOptionalAction, default=True, help="Async export.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of every run.")
    parser.add_argument("--input_file", default=None, help="Annotated source dataset (default: built and cached).")
    args = parse_args(parser, argv, SIZES)
    args.workers = sorted(args.workers)
    return args


def runnable_worker_counts(counts: list[int], device: str, cluster_resources: dict[str, float]) -> list[int]:
    """The worker counts the cluster can run at once (one CPU each, and one GPU each on CUDA)."""
    limit = cluster_resources.get("CPU", 0)
    if torch.device(device).type == "cuda":
        limit = min(limit, cluster_resources.get("GPU", 0))
    return [count for count in counts if count <= limit]


def run_generation(args: Any, input_file: str, runs_dir: str, num_workers: int, round_index: int) -> dict[str, Any]:
    """One distributed generation; returns its measurements."""
    from isaaclab_mimic.datagen.distributed_generation import generate_distributed

    output_file = os.path.join(runs_dir, f"workers{num_workers}-r{round_index}.hdf5")
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
        "output_file": output_file,
        "num_demos": summary.num_demos,
        "outcome": summary.outcome,
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
    inputs = [os.path.join(runs_dir, f"merge_input_{index}.hdf5") for index in range(copies)]
    for path in inputs:
        shutil.copyfile(dataset, path)
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
    """One row per worker count: medians over the rounds, and speed-ups over the first count."""
    rows = []
    for count in counts:
        mine = select(runs, num_workers=count)
        row = {"num_workers": count, "rounds": len(mine), "num_demos": mine[0]["num_demos"]}
        row.update({key: median([run[key] for run in mine]) for key in MEASURES})
        rows.append(row)
    for row in rows:
        row["speedup"] = row["demos_per_second"] / rows[0]["demos_per_second"]
        row["steady_speedup"] = row["steady_demos_per_second"] / rows[0]["steady_demos_per_second"]
    return rows


def sections(report: dict[str, Any]) -> list[str]:
    """The markdown report: settings, the scaling table, the merge alone and the skipped worker counts."""
    args, merge = report["args"], report["merge"]
    header = ["workers", "demos", "run s", "demos/s", "speed-up", "steady demos/s", "steady speed-up", "merge MB"]
    header += ["merge s", "merge MB/s"]
    table = [
        [row["num_workers"], row["num_demos"], fmt(row["generation_seconds"], 1), fmt(row["demos_per_second"])]
        + [fmt(row["speedup"], 2, "x"), fmt(row["steady_demos_per_second"]), fmt(row["steady_speedup"], 2, "x")]
        + [fmt(row["merge_mb"]), fmt(row["merge_seconds"], 3), fmt(row["merge_mb_per_second"], 1)]
        for row in report["rows"]
    ]
    text = [
        f"{args['generation_num_trials']} demos per run, {args['num_envs']} env(s) per worker, device"
        f" {args['device']}, {'async' if args['async_write'] else 'sync'} export, seed {args['seed']},"
        f" {args['repeats']} round(s) (median); Ray {report['ray']['version']}, {report['ray']['gpus']} GPU(s).",
        markdown_table(header, table, 0),
        f"Merge alone: {merge['inputs']} copies of a {merge['num_demos'] // merge['inputs']}-demo dataset,"
        f" {merge['mb']:.1f} MB, in {merge['seconds']:.2f} s: **{merge['mb_per_second']:.1f} MB/s**"
        f" ({merge['demos_per_second']:.0f} demos/s).",
    ]
    if report["skipped_worker_counts"]:
        skipped = ", ".join(map(str, report["skipped_worker_counts"]))
        text.append(f"Skipped worker counts (more than the cluster's CPUs or GPUs): {skipped}.")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its reports."""
    args = parse_command_line(argv)
    import ray  # the 'ray' extra of isaaclab_mimic

    from isaaclab_mimic.datagen.ray_connection import connect_ray

    report = start_report(NAME, args, argv, args.device)
    input_file = args.input_file or ensure_source_dataset(
        DEFAULT_TASK, device=args.device, num_demos=args.source_num_demos
    )
    runs_dir = os.path.join(args.output_dir, f"{NAME}_runs")
    shutil.rmtree(runs_dir, ignore_errors=True)
    os.makedirs(runs_dir)
    connect_ray(args.ray_address)
    try:
        resources = {key: value for key, value in ray.cluster_resources().items() if "node" not in key}
        counts = runnable_worker_counts(args.workers, args.device, resources)
        skipped = [count for count in args.workers if count not in counts]
        if skipped:
            print(f"[INFO] Skipping worker counts the cluster cannot run at once: {', '.join(map(str, skipped))}.")
        if not counts:
            print("[ERROR] The cluster cannot run any of the worker counts.", file=sys.stderr)
            return 1
        runs = run_rounds(
            counts,
            args.repeats,
            lambda _, count, index: run_generation(args, input_file, runs_dir, count, index),
            summary=lambda results: f"{results[0]['num_demos']} demos, {results[0]['demos_per_second']:.2f} demos/s",
        )
    finally:
        ray.shutdown()
    merge = run_merge(runs[-1]["output_file"], args.merge_copies, runs_dir)
    shutil.rmtree(runs_dir, ignore_errors=True)
    report.update(source_dataset=input_file, ray={"version": ray.__version__, "gpus": resources.get("GPU", 0)})
    report.update(cluster_resources=resources, rows=summarize(runs, counts), skipped_worker_counts=skipped)
    report.update(merge=merge, runs=runs)
    series = {
        label: [row[key] for row in report["rows"]]
        for key, label in (("demos_per_second", "run"), ("steady_demos_per_second", "steady (start-up excluded)"))
    }
    panel = Panel("demos per second", [f"{count} worker(s)" for count in counts], series, "demos/s")
    title = f"Mimic generation on Ray: {args.generation_num_trials} demos, {args.device}"
    write_results(args.output_dir, NAME, title, report, sections(report), [panel])
    return 0


if __name__ == "__main__":
    sys.exit(main())
