# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark the dataset writer's throughput against plain h5py on the same data.

Every mode writes the same episodes (camera-like uint8 images plus low-dimensional state arrays, already stacked
per episode, as numpy arrays) into a new HDF5 file, one group per episode, flushing after every episode, and closes
the file. The time of a run is from creating the file to closing it. Modes:

* ``h5py_gzip``: plain h5py on the calling thread, ``create_dataset(..., compression="gzip", compression_opts=L)``
  (HDF5's own deflate filter, one chunk after the other): the reference,
* ``h5py_none``: plain h5py, uncompressed,
* ``writer_none``: the project's writer (``EpisodeWriter`` writing through ``HDF5DatasetFileHandler``), uncompressed,
* ``writer_gzip_<N>t``: the project's writer with gzip at the same level and ``N`` compression threads
  (``HDF5DatasetFileHandler.configure_compression("gzip", L, N)``), for every ``N`` of ``--threads``.

Throughput is the uncompressed array bytes divided by the run's seconds (MB = 1e6 bytes). Repeats are interleaved:
every repeat round runs every mode once, in an order rotated by one mode per round, and the ratio of a mode to
``h5py_gzip`` is taken within each round. The table shows the median throughput and the minimum, median and maximum
of the per-round ratios. One warm-up round (not reported) runs first. After the first round, the gzip files of the
writer are checked to hold the same values as the reference file.

Results: ``<output_dir>/writer_throughput.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_writer_throughput.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_writer_throughput.py --threads 1 2 4 8 16
    ./isaaclab.sh -p scripts/benchmarks/benchmark_writer_throughput.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np
import torch

from isaaclab.utils.datasets import EpisodeData, EpisodeWriteJob, EpisodeWriter, HDF5DatasetFileHandler

RESULT_NAME = "writer_throughput"
"""Base name of the result files."""

REFERENCE_MODE = "h5py_gzip"
"""The mode every ratio is taken against."""

QUICK = {"episodes": 2, "steps": 16, "image_size": 32, "repeats": 2, "warmup": 0}
"""The sizes of ``--quick``: a seconds-long smoke run."""

Arrays = dict[str, Any]
"""A (nested) dict of numpy arrays: one episode."""


"""
Data.
"""


def make_episodes(
    num_episodes: int, steps: int, image_size: int, num_cameras: int, seed: int
) -> list[dict[str, np.ndarray | dict]]:
    """Episodes of camera-like images and state arrays, as nested dicts of numpy arrays (one row per step).

    The images are windows moving over a smooth colour field (bilinearly upsampled coarse noise) with a little pixel
    noise: they compress about as well as rendered images of a simple scene (much better than noise, much worse than
    constant frames). The state arrays are smooth trajectories in float32.

    Args:
        num_episodes: The number of episodes.
        steps: Steps per episode.
        image_size: Width and height of every camera image.
        num_cameras: Number of RGB cameras.
        seed: Seed of the data.

    Returns:
        The episodes.
    """
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    field_size = image_size * 2
    episodes = []
    for _ in range(num_episodes):
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        episode: dict[str, Any] = {
            "actions": np.sin(t * 6.0 + np.arange(7, dtype=np.float32)).astype(np.float32),
            "obs": {
                "eef_pos": np.cos(t * 3.0 + np.arange(3, dtype=np.float32)).astype(np.float32),
                "eef_quat": np.sin(t * 2.0 + np.arange(4, dtype=np.float32)).astype(np.float32),
                "joint_pos": np.sin(t * 4.0 + np.arange(9, dtype=np.float32) * 0.3).astype(np.float32),
                "joint_vel": np.cos(t * 5.0 + np.arange(9, dtype=np.float32)).astype(np.float32),
            },
            "states": {
                "robot_root_pose": np.sin(t + np.arange(7, dtype=np.float32)).astype(np.float32),
                "robot_joint_position": np.cos(t + np.arange(9, dtype=np.float32)).astype(np.float32),
                "cube_root_pose": np.sin(t * 0.5 + np.arange(7, dtype=np.float32)).astype(np.float32),
            },
        }
        for camera in range(num_cameras):
            coarse = torch.rand(1, 3, 8, 8, generator=generator)
            smooth = torch.nn.functional.interpolate(coarse, size=(field_size, field_size), mode="bilinear")
            field = (smooth[0].permute(1, 2, 0).numpy() * 240).astype(np.float32)
            rows = (np.linspace(0, field_size - image_size, steps)).astype(int)
            cols = (np.linspace(0, (field_size - image_size) // 2, steps)).astype(int)
            frames = np.stack([field[r : r + image_size, c : c + image_size] for r, c in zip(rows, cols)])
            frames += rng.random(frames.shape, dtype=np.float32) * 15
            episode["obs"][f"camera_{camera}"] = frames.clip(0, 255).astype(np.uint8)
        episodes.append(episode)
    return episodes


def tree_nbytes(node: Any) -> int:
    """Bytes of the arrays in a nested dict."""
    if isinstance(node, dict):
        return sum(tree_nbytes(value) for value in node.values())
    return int(node.nbytes)


def _as_tensors(node: Any) -> Any:
    """The nested dict with every array as a tensor sharing its memory (no copy)."""
    if isinstance(node, dict):
        return {key: _as_tensors(value) for key, value in node.items()}
    return torch.from_numpy(node)


"""
Modes.
"""


def mode_names(threads: Sequence[int]) -> list[str]:
    """The modes of a run, the reference first."""
    return ["h5py_gzip", "h5py_none", "writer_none", *[f"writer_gzip_{count}t" for count in threads]]


def write_h5py(path: str, episodes: list[Arrays], compression: str | None, level: int) -> None:
    """Write the episodes with plain h5py on this thread (the reference)."""
    options = {"compression": compression, "compression_opts": level} if compression else {}

    def write_group(group: h5py.Group, node: Arrays) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                write_group(group.create_group(key), value)
            else:
                group.create_dataset(key, data=value, **options)

    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        for index, episode in enumerate(episodes):
            write_group(data.create_group(f"demo_{index}"), episode)
            file.flush()


def write_project(path: str, episodes: list[Arrays], codec: str, level: int, threads: int) -> None:
    """Write the episodes with the project's writer: an inline ``EpisodeWriter`` and an ``HDF5DatasetFileHandler``."""
    handler = HDF5DatasetFileHandler()
    handler.configure_compression(codec, level, threads)
    handler.create(path, env_name="writer-throughput")
    writer = EpisodeWriter(asynchronous=False)
    try:
        for episode_arrays in episodes:
            episode = EpisodeData()
            episode.data = _as_tensors(episode_arrays)
            writer.submit(EpisodeWriteJob(file_handler=handler, episode=episode, dataset_compression=True))
        writer.close()
    finally:
        handler.close()


def run_mode(mode: str, path: str, episodes: list[Arrays], level: int) -> float:
    """Write the episodes in one mode; returns the seconds from creating the file to closing it."""
    gc.collect()
    start = time.perf_counter()
    if mode == "h5py_gzip":
        write_h5py(path, episodes, "gzip", level)
    elif mode == "h5py_none":
        write_h5py(path, episodes, None, level)
    elif mode == "writer_none":
        write_project(path, episodes, "none", level, 1)
    else:
        threads = int(mode[len("writer_gzip_") : -1])
        write_project(path, episodes, "gzip", level, threads)
    return time.perf_counter() - start


def same_values(reference_path: str, path: str) -> bool:
    """Whether every dataset of the reference file is in the other file with the same values."""
    with h5py.File(reference_path, "r") as reference, h5py.File(path, "r") as other:
        names: list[str] = []
        reference.visit(lambda name: names.append(name) if isinstance(reference[name], h5py.Dataset) else None)
        return all(name in other and np.array_equal(reference[name][()], other[name][()]) for name in names)


def run_rounds(args: argparse.Namespace, episodes: list[Arrays], work_dir: str) -> tuple[list[dict], dict]:
    """Run the warm-up and the measured rounds; returns one record per measured run and the value checks."""
    modes = mode_names(args.threads)
    runs = []
    checks: dict[str, bool] = {}
    total_rounds = args.warmup + args.repeats
    for round_index in range(total_rounds):
        measured = round_index >= args.warmup
        repeat = round_index - args.warmup
        shift = round_index % len(modes)
        order = modes[shift:] + modes[:shift]
        label = f"repeat {repeat + 1}/{args.repeats}" if measured else "warm-up"
        print(f"[writer-bench] {label}:", end="", flush=True)
        for mode in order:
            path = os.path.join(work_dir, f"{mode}.hdf5")
            seconds = run_mode(mode, path, episodes, args.level)
            file_bytes = os.path.getsize(path)
            print(f" {mode} {seconds:.2f}s", end="", flush=True)
            if measured:
                runs.append({"repeat": repeat, "mode": mode, "seconds": seconds, "file_bytes": file_bytes})
        print(flush=True)
        if round_index == 0:
            reference = os.path.join(work_dir, f"{REFERENCE_MODE}.hdf5")
            for mode in modes:
                if mode != REFERENCE_MODE:
                    checks[mode] = same_values(reference, os.path.join(work_dir, f"{mode}.hdf5"))
        for mode in modes:
            os.remove(os.path.join(work_dir, f"{mode}.hdf5"))
    return runs, checks


"""
Summaries.
"""


def summarize(runs: list[dict], modes: list[str], data_bytes: int) -> list[dict]:
    """One row per mode: median seconds and MB/s, and the spread of the per-round ratios to the reference."""
    by_round: dict[int, dict[str, dict]] = {}
    for run in runs:
        by_round.setdefault(run["repeat"], {})[run["mode"]] = run
    rows = []
    for mode in modes:
        mode_runs = [run for run in runs if run["mode"] == mode]
        seconds = [run["seconds"] for run in mode_runs]
        throughputs = [data_bytes / 1e6 / value for value in seconds]
        # throughput ratio to the reference within each round = reference seconds / mode seconds
        ratios = [
            round_runs[REFERENCE_MODE]["seconds"] / round_runs[mode]["seconds"]
            for round_runs in by_round.values()
            if mode in round_runs and REFERENCE_MODE in round_runs
        ]
        rows.append(
            {
                "mode": mode,
                "repeats": len(mode_runs),
                "seconds_median": statistics.median(seconds),
                "seconds_all": seconds,
                "mb_s_median": statistics.median(throughputs),
                "mb_s_min": min(throughputs),
                "mb_s_max": max(throughputs),
                "ratio_to_h5py_gzip": _spread(ratios),
                "ratios_to_h5py_gzip_all": ratios,
                "file_mb": statistics.median(run["file_bytes"] for run in mode_runs) / 1e6,
            }
        )
    return rows


def _spread(values: list[float]) -> dict[str, float | None]:
    """Minimum, median and maximum of the values (None if there are none)."""
    if not values:
        return {"min": None, "median": None, "max": None}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def markdown_table(report: dict) -> str:
    """The results as a markdown document."""
    args, machine = report["args"], report["machine"]
    lines = [
        "# Writer throughput benchmark",
        "",
        f"{args['episodes']} episodes of {args['steps']} steps: {args['cameras']} RGB camera(s) of"
        f" {args['image_size']}x{args['image_size']} (uint8) plus state arrays (float32),"
        f" {report['data_mb']:.1f} MB of arrays; gzip level {args['level']}; {args['repeats']} interleaved repeat(s)"
        f" after {args['warmup']} warm-up round(s).",
        f"Machine: {machine['cpu_count']} CPUs, h5py {machine['h5py']} (HDF5 {machine['hdf5']}),"
        f" {machine['platform']}; load average {machine['load_average_start']} at start,"
        f" {machine['load_average_end']} at end.",
        "",
        "| mode | MB/s (median) | MB/s min-max | vs h5py gzip (median) | vs h5py gzip min-max | s (median) | file MB |"
        " same values as h5py gzip |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in report["rows"]:
        ratio = row["ratio_to_h5py_gzip"]
        check = report["checks"].get(row["mode"])
        cells = [
            row["mode"],
            f"{row['mb_s_median']:.1f}",
            f"{row['mb_s_min']:.1f}-{row['mb_s_max']:.1f}",
            f"{ratio['median']:.2f}x",
            f"{ratio['min']:.2f}-{ratio['max']:.2f}x",
            f"{row['seconds_median']:.3f}",
            f"{row['file_mb']:.2f}",
            "reference" if check is None else ("yes" if check else "NO"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "MB/s: uncompressed array megabytes (1e6 bytes) per second, from creating the file to closing it (one flush"
        " per episode). Ratios: throughput over h5py gzip's in the same repeat round.",
    ]
    return "\n".join(lines) + "\n"


def write_plot(path: str, report: dict) -> None:
    """A bar chart of the median throughput per mode, with the range over the repeats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    names = [row["mode"] for row in rows]
    medians = [row["mb_s_median"] for row in rows]
    yerr = [
        [row["mb_s_median"] - row["mb_s_min"] for row in rows],
        [row["mb_s_max"] - row["mb_s_median"] for row in rows],
    ]
    colors = ["tab:red" if name.startswith("h5py") else "tab:blue" for name in names]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(rows)), 4))
    bars = ax.bar(names, medians, yerr=yerr, capsize=3, color=colors)
    labels = [f"{row['mb_s_median']:.0f}\n{row['ratio_to_h5py_gzip']['median']:.2f}x" for row in rows]
    ax.bar_label(bars, labels=labels, label_type="center", color="white", fontsize=8)
    ax.set_ylabel("MB/s (median, range over repeats)")
    ax.tick_params(axis="x", labelrotation=20)
    args = report["args"]
    ax.set_title(
        f"Writer throughput: {args['episodes']} episodes x {args['steps']} steps, {args['cameras']} camera(s)"
        f" {args['image_size']}px, gzip {args['level']}, {report['machine']['cpu_count']} CPUs",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def machine_info() -> dict[str, Any]:
    """The machine and software the benchmark ran on."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "load_average_start": _load_average(),
    }


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, if the OS says (other processes disturb the timings)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (OSError, AttributeError):
        return None


"""
Main.
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``--quick`` sets the sizes not given explicitly)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=None, help="Episodes per file (default: 4).")
    parser.add_argument("--steps", type=int, default=None, help="Steps per episode (default: 200).")
    parser.add_argument("--image_size", type=int, default=None, help="Camera width and height (default: 128).")
    parser.add_argument("--cameras", type=int, default=2, help="RGB cameras per step.")
    parser.add_argument("--level", type=int, default=2, help="gzip level of every compressed mode.")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="Compression thread counts of the project's writer (default: 1, 2 and every core).",
    )
    parser.add_argument("--repeats", type=int, default=None, help="Measured rounds (default: 5).")
    parser.add_argument("--warmup", type=int, default=None, help="Unreported warm-up rounds (default: 1).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the data.")
    parser.add_argument("--output_dir", default="./benchmark_results", help="Folder of the result files.")
    parser.add_argument("--work_dir", default=None, help="Where the files are written (default: a temp folder).")
    parser.add_argument("--quick", action="store_true", help="A seconds-long smoke run with tiny sizes.")
    args = parser.parse_args(argv)
    defaults = {"episodes": 4, "steps": 200, "image_size": 128, "repeats": 5, "warmup": 1}
    for key, default in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else default)
    if args.threads is None:
        args.threads = [1, 2, os.cpu_count() or 1]
    args.threads = sorted(set(args.threads))
    for name in ("episodes", "steps", "image_size", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.cameras < 0 or args.warmup < 0 or min(args.threads) < 1 or not 0 <= args.level <= 9:
        parser.error("--cameras and --warmup must be >= 0, --threads >= 1 and --level in 0-9")
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the benchmark; returns the report."""
    args = parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    machine = machine_info()
    episodes = make_episodes(args.episodes, args.steps, args.image_size, args.cameras, args.seed)
    data_bytes = sum(tree_nbytes(episode) for episode in episodes)
    work_dir = tempfile.mkdtemp(prefix="writer_bench_", dir=args.work_dir)
    started = time.perf_counter()
    try:
        runs, checks = run_rounds(args, episodes, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    machine["load_average_end"] = _load_average()
    modes = mode_names(args.threads)
    report = {
        "benchmark": RESULT_NAME,
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["benchmark_writer_throughput.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": machine,
        "args": vars(args),
        "data_mb": data_bytes / 1e6,
        "total_seconds": time.perf_counter() - started,
        "rows": summarize(runs, modes, data_bytes),
        "checks": checks,
        "runs": runs,
    }
    base = os.path.join(args.output_dir, RESULT_NAME)
    with open(f"{base}.json", "w") as file:
        json.dump(report, file, indent=2)
    table = markdown_table(report)
    with open(f"{base}.md", "w") as file:
        file.write(table)
    write_plot(f"{base}.png", report)
    print()
    print(table)
    print(f"[writer-bench] Results: {base}.json, {base}.md, {base}.png")
    if not all(checks.values()):
        print("[writer-bench] ERROR: a writer file differs from the h5py reference.", file=sys.stderr)
    return report


if __name__ == "__main__":
    report = main()
    sys.exit(0 if all(report["checks"].values()) else 1)
