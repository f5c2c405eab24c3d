# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark the dataset writer: MB/s and bytes on disk, this project's HDF5 handler against an older tree's and
against Isaac Lab 3.0.0's own write call.

The episodes are the embedded cube-stacking task's: the state arrays of each demo of the cached source dataset
(actions, observations, states), plus the frames its table and wrist cameras render at every step of the demo, at
each ``--camera_sizes`` (84: the task's cameras; 256: larger renders, as the Mimic benchmark's ``--camera_size``
makes). The demos are cycled until an episode set holds ``--megabytes`` of arrays. The writers:

* ``this_project``: ``HDF5DatasetFileHandler`` with gzip level 2 on ``N`` threads (``configure_compression("gzip",
  2, N)``) for every ``N`` of ``--threads``,
* ``baseline``: the same calls with the handler of ``--baseline_source`` (a checkout of an older commit, for
  example 503e81e: its ``source/isaaclab`` goes first on the worker's ``PYTHONPATH``),
* ``isaaclab_3.0.0``: Isaac Lab 3.0.0's write call: h5py ``create_dataset(..., compression="gzip",
  compression_opts=2)`` with HDF5's automatic chunks, on the calling thread.

Each writes every episode as one group, flushes after every episode, and closes the file; the time runs from
creating the file to closing it, and MB/s counts the arrays' bytes (1e6 bytes a MB). Every round runs each writer
once (one process each, writing every camera size and thread count), in an order rotated every round; ratios are
taken within a round. The files of the first round are checked to hold the values Isaac Lab 3.0.0's call wrote.

Results: ``<output_dir>/writer_throughput.{json,md,png}``.

Examples::

    git worktree add /tmp/baseline 503e81e
    ./isaaclab.sh -p scripts/benchmarks/benchmark_writer_throughput.py --baseline_source /tmp/baseline
    ./isaaclab.sh -p scripts/benchmarks/benchmark_writer_throughput.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np
import torch
from benchmark_utils.cli import Size, benchmark_parser, int_list, parse_args, positive_int
from benchmark_utils.report import Panel, fmt, markdown_table, start_report, write_results
from benchmark_utils.rounds import format_spread, median, ratio_spread, run_rounds, select, spread
from benchmark_utils.workers import run_script, run_worker

NAME = "writer_throughput"
"""Base name of the result files."""

OURS, BASELINE, UPSTREAM = "this_project", "baseline", "isaaclab_3.0.0"
"""The writers (the rounds' modes)."""

GZIP_LEVEL = 2
"""Isaac Lab's gzip level."""

TARGETS = {"mb_s_vs_baseline": 2.0, "file_vs_baseline": 1.10}
"""On camera frames: at least 2x the baseline's MB/s, with files at most 10 % larger (medians of per-round ratios)."""

STATE_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
"""The task whose cached source dataset gives the episodes' states."""

SIZES = {
    "camera_sizes": Size(int_list, [84, 256], [32], "Camera widths and heights."),
    "megabytes": Size(positive_int, 150, 2, "Array MB of an episode set (the demos cycled)."),
    "source_num_demos": Size(positive_int, 2, 2, "Demos of the cached source dataset."),
    "repeats": Size(positive_int, 5, 2, "Interleaved rounds."),
}
"""The size options."""


def parse_command_line(argv: Sequence[str] | None = None) -> Any:
    """Parse the command line (``--quick`` fills in the sizes not given)."""
    parser = benchmark_parser(__doc__, SIZES)
    parser.add_argument("--threads", type=int_list, default=None, help="Compression threads (1 and every core).")
    parser.add_argument("--baseline_source", default=None, help="A checkout of the tree to compare with.")
    parser.add_argument("--work_dir", default=None, help="Where the files are written (default: a temp folder).")
    args = parse_args(parser, argv, SIZES)
    args.threads = args.threads or sorted({1, os.cpu_count() or 1})
    if args.baseline_source and not os.path.isdir(os.path.join(args.baseline_source, "source", "isaaclab")):
        parser.error(f"--baseline_source '{args.baseline_source}' has no source/isaaclab")
    return args


"""
Data: the embedded task's frames.
"""


def task_episodes(source_file: str, camera_size: int) -> list[dict[str, Any]]:
    """Every demo of the source dataset with the frames the task's cameras render at each of its steps.

    The scene is set to each step's recorded state (every demo in an environment of its own) and rendered.

    Args:
        source_file: The annotated source dataset of the state-only task.
        camera_size: Width and height of the rendered frames.

    Returns:
        Per demo, its arrays as nested dicts, with ``obs/table_cam`` and ``obs/wrist_cam`` (uint8, (T, S, S, 3)).
    """
    from isaaclab_tasks.manager_based.manipulation.stack import GripperCubeStackVisuomotorEnvCfg

    with h5py.File(source_file, "r") as file:
        demos = [_read(file["data"][name]) for name in sorted(file["data"], key=lambda name: int(name[5:]))]
    scene_cfg = GripperCubeStackVisuomotorEnvCfg().scene
    scene_cfg.num_envs = len(demos)
    for camera in scene_cfg.cameras.values():
        camera.width = camera.height = camera_size
    scene = scene_cfg.class_type(scene_cfg, "cpu")
    lengths = [len(demo["actions"]) for demo in demos]
    frames: dict[str, list[np.ndarray]] = {name: [] for name in scene_cfg.cameras}
    for step in range(max(lengths)):
        rows = [min(step, length - 1) for length in lengths]
        scene.reset_to(_stack([demo["states"] for demo in demos], rows), is_relative=True)
        for name, images in frames.items():
            images.append(scene.render(name).numpy())
    for index, demo in enumerate(demos):
        for name, images in frames.items():
            demo["obs"][name] = np.stack([image[index] for image in images[: lengths[index]]])
    return demos


def _read(group: h5py.Group) -> dict[str, Any]:
    """A group's datasets as nested dicts of numpy arrays."""
    return {key: _read(item) if isinstance(item, h5py.Group) else item[()] for key, item in group.items()}


def _stack(trees: list[dict[str, Any]], rows: list[int]) -> dict[str, Any]:
    """One row of each tree (``rows[i]`` of ``trees[i]``), stacked into a batch of tensors of the same layout."""
    if isinstance(trees[0], dict):
        return {key: _stack([tree[key] for tree in trees], rows) for key in trees[0]}
    return torch.from_numpy(np.stack([tree[row] for tree, row in zip(trees, rows)]))


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """A nested dict of arrays as ``{"a/b": array}``."""
    flat = {}
    for key, value in tree.items():
        flat.update(_flatten(value, f"{prefix}{key}/") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def _unflatten(flat: dict[str, np.ndarray]) -> dict[str, Any]:
    """The inverse of :func:`_flatten`."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        *groups, leaf = path.split("/")
        node = tree
        for group in groups:
            node = node.setdefault(group, {})
        node[leaf] = value
    return tree


def prepare_data(args: Any, work_dir: str) -> dict[str, dict[str, Any]]:
    """Render the episodes of every camera size once and save them for the workers (``.npz``, uncompressed).

    Returns:
        Per camera size: the file, the number of episodes (the demos cycled), their array bytes and the camera
        frames' share of them.
    """
    from isaaclab_mimic.tools.source_dataset import ensure_source_dataset

    source_file = ensure_source_dataset(STATE_TASK, num_demos=args.source_num_demos)
    data = {}
    for size in args.camera_sizes:
        demos = task_episodes(source_file, size)
        demo_bytes = [sum(array.nbytes for array in _flatten(demo).values()) for demo in demos]
        frame_bytes = [sum(demo["obs"][name].nbytes for name in ("table_cam", "wrist_cam")) for demo in demos]
        episodes = 0
        while sum(demo_bytes[index % len(demos)] for index in range(episodes)) < args.megabytes * 1e6:
            episodes += 1
        cycled = [index % len(demos) for index in range(episodes)]
        path = os.path.join(work_dir, f"episodes_{size}.npz")
        np.savez(
            path,
            **{f"{index}/{key}": value for index, demo in enumerate(demos) for key, value in _flatten(demo).items()},
        )
        data[str(size)] = {
            "file": path,
            "episodes": episodes,
            "bytes": sum(demo_bytes[index] for index in cycled),
            "camera_bytes": sum(frame_bytes[index] for index in cycled),
        }
    return data


"""
The worker: one writer, every camera size and thread count.
"""


def measure(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Write every episode set with one writer, once per thread count (once for Isaac Lab 3.0.0's call)."""
    import isaaclab

    results = []
    for size, data in task["data"].items():
        with np.load(data["file"]) as arrays:
            demos = _unflatten({key: arrays[key] for key in arrays.files})
        episodes = [demos[str(index % len(demos))] for index in range(data["episodes"])]
        for threads in task["threads"] if task["writer"] != UPSTREAM else [None]:
            path = os.path.join(task["work_dir"], f"{task['writer']}_{size}_{threads}_r{task['round']}.hdf5")
            start = time.perf_counter()
            if task["writer"] == UPSTREAM:
                write_with_h5py(path, episodes)
            else:
                write_with_handler(path, episodes, threads)
            seconds = time.perf_counter() - start
            keep = task["keep"] and threads in (None, task["threads"][0])
            results.append(
                {
                    "camera_size": int(size),
                    "threads": threads,
                    "seconds": seconds,
                    "mb_s": data["bytes"] / 1e6 / seconds,
                    "file_bytes": os.path.getsize(path),
                    "file": path if keep else None,
                    "isaaclab": None if task["writer"] == UPSTREAM else os.path.dirname(isaaclab.__file__),
                }
            )
            if not keep:
                os.remove(path)
    return results


def write_with_handler(path: str, episodes: list[dict[str, Any]], threads: int) -> None:
    """Write the episodes with the ``HDF5DatasetFileHandler`` this Python imports, on ``threads`` gzip threads."""
    from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

    handler = HDF5DatasetFileHandler()
    handler.configure_compression("gzip", GZIP_LEVEL, threads)
    handler.create(path, env_name=STATE_TASK)
    for arrays in episodes:
        episode = EpisodeData()
        episode.data = _as_tensors(arrays)
        handler.write_episode(episode)
        handler.flush()
    handler.close()


def write_with_h5py(path: str, episodes: list[dict[str, Any]]) -> None:
    """Write the episodes as Isaac Lab 3.0.0's handler does: one ``create_dataset`` per array, gzip level 2."""

    def write_group(group: h5py.Group, node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                write_group(group.create_group(key), value)
            else:
                group.create_dataset(key, data=value, compression="gzip", compression_opts=GZIP_LEVEL)

    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        for index, episode in enumerate(episodes):
            write_group(data.create_group(f"demo_{index}"), episode)
            file.flush()


def _as_tensors(node: Any) -> Any:
    """A nested dict of arrays as tensors sharing their memory."""
    return (
        {key: _as_tensors(value) for key, value in node.items()} if isinstance(node, dict) else torch.from_numpy(node)
    )


"""
Checks, summary and main.
"""


def same_values(reference: str, path: str) -> bool:
    """Whether every dataset of the reference file is in the other file, with the same values."""
    with h5py.File(reference, "r") as expected, h5py.File(path, "r") as written:
        names: list[str] = []
        expected.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
        return bool(names) and all(
            name in written and np.array_equal(expected[name][()], written[name][()]) for name in names
        )


def check_values(runs: list[dict[str, Any]]) -> dict[str, bool]:
    """Per camera size and writer, whether its first-round file holds the values Isaac Lab 3.0.0's call wrote."""
    kept = [run for run in runs if run["file"]]
    checks = {}
    for run in kept:
        reference = select(kept, mode=UPSTREAM, camera_size=run["camera_size"])
        if run["mode"] != UPSTREAM and reference:
            checks[f"{run['camera_size']}/{run['mode']}"] = same_values(reference[0]["file"], run["file"])
    return checks


def summarize(runs: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """One row per camera size, writer and thread count: MB/s, file size, and per-round ratios to the other writers."""
    rows = []
    for size in sizes:
        for config in dict.fromkeys((run["mode"], run["threads"]) for run in select(runs, camera_size=size)):
            writer, threads = config
            mine = {"mode": writer, "camera_size": size, "threads": threads}
            baseline = {"mode": BASELINE, "camera_size": size, "threads": threads}
            upstream = {"mode": UPSTREAM, "camera_size": size}
            measured = select(runs, **mine)
            row = {"camera_size": size, "writer": writer, "threads": threads}
            row["mb_s"] = spread([run["mb_s"] for run in measured])
            row["file_mb"] = median([run["file_bytes"] / 1e6 for run in measured])
            row["mb_s_vs_baseline"] = ratio_spread(runs, "mb_s", mine, baseline)
            row["file_vs_baseline"] = ratio_spread(runs, "file_bytes", mine, baseline)
            row["mb_s_vs_upstream"] = ratio_spread(runs, "mb_s", mine, upstream)
            row["file_vs_upstream"] = ratio_spread(runs, "file_bytes", mine, upstream)
            faster, smaller = row["mb_s_vs_baseline"]["median"], row["file_vs_baseline"]["median"]
            row["met"] = None
            if writer == OURS and faster is not None:
                row["met"] = faster >= TARGETS["mb_s_vs_baseline"] and smaller <= TARGETS["file_vs_baseline"]
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (1 if a file does not hold the values it should)."""
    args = parse_command_line(argv)
    report = start_report(NAME, args, argv)
    pythonpaths = {OURS: [], UPSTREAM: []}
    if args.baseline_source:
        pythonpaths[BASELINE] = [os.path.abspath(os.path.join(args.baseline_source, "source", "isaaclab"))]
    else:
        print("[INFO] No --baseline_source: the baseline writer is not measured.", flush=True)
    writers = [writer for writer in (OURS, BASELINE, UPSTREAM) if writer in pythonpaths]
    work_dir = tempfile.mkdtemp(prefix="writer_bench_", dir=args.work_dir)
    try:
        data = prepare_data(args, work_dir)

        def run(_: None, writer: str, round_index: int) -> list[dict[str, Any]]:
            task = {"writer": writer, "data": data, "threads": args.threads, "work_dir": work_dir}
            task.update(round=round_index, keep=round_index == 0)
            return run_worker(__file__, task, pythonpath=pythonpaths[writer])

        runs = run_rounds(
            writers, args.repeats, run, summary=lambda results: " ".join(f"{r['mb_s']:.0f}" for r in results) + " MB/s"
        )
        checks = check_values(runs)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    rows = summarize(runs, args.camera_sizes)
    report.update(data=data, rows=rows, checks=checks, runs=runs)
    header = ["camera", "writer", "threads", "MB/s", "file MB", "MB/s / baseline", "file / baseline"]
    header += ["MB/s / 3.0.0", "file / 3.0.0", "target"]
    verdicts = {True: "met", False: "MISSED", None: "-"}
    table = [
        [
            f"{row['camera_size']}x{row['camera_size']}",
            row["writer"],
            row["threads"] or "-",
            format_spread(row["mb_s"], 1, ""),
            fmt(row["file_mb"], 2),
            *(format_spread(row[key]) for key in ("mb_s_vs_baseline", "file_vs_baseline")),
            *(format_spread(row[key]) for key in ("mb_s_vs_upstream", "file_vs_upstream")),
            verdicts[row["met"]],
        ]
        for row in rows
    ]
    sizes = ", ".join(
        f"{size}: {info['episodes']} episodes, {info['bytes'] / 1e6:.1f} MB, {info['camera_bytes'] / 1e6:.1f} MB of it"
        " camera frames"
        for size, info in data.items()
    )
    sections = [
        f"Episode sets ({sizes}); {args.repeats} interleaved rounds. MB/s: median [min-max] over the rounds; ratios:"
        " median [min-max] of the per-round ratios. Target: MB/s / baseline >= 2.0x with file / baseline <= 1.10x.",
        markdown_table(header, table, 3),
        "Same values as Isaac Lab 3.0.0's call: "
        + (", ".join(f"{name} {'yes' if same else 'NO'}" for name, same in checks.items()) or "not checked"),
        f"Baseline: {args.baseline_source or 'not measured (no --baseline_source)'}.",
    ]
    panels = [
        Panel(
            f"{size}x{size} cameras",
            [f"{row['writer']}\n{row['threads'] or 1} thread(s)" for row in rows if row["camera_size"] == size],
            {"MB/s": [row["mb_s"] for row in rows if row["camera_size"] == size]},
            "MB/s (median, range over rounds)",
        )
        for size in args.camera_sizes
    ]
    write_results(args.output_dir, NAME, "Writer throughput on the embedded task's episodes", report, sections, panels)
    if not all(checks.values()):
        print("[ERROR] A file does not hold the values Isaac Lab 3.0.0's call wrote.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_script(main, measure)
