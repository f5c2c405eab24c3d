# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark the memory the recorder holds against what its episodes hold.

The scenario: ``--num_envs`` envs (8) record a ``--image_size`` RGB camera (128x128, uint8) plus low-dimensional
state for ``--episode_length`` steps (300); then env 0's episode is exported while the other envs are reset, in
``--rounds`` rounds (3). The file handler holds every write until the end, so the exported episodes stay queued,
as they do behind a slow writer. At each round's end, before and after the export, and after the final drain:

* recorded: bytes of the recorded steps (``RecorderManager.episode_memory.bytes_recorded``); in use: the pages that
  hold them (``bytes_in_use``, with each env's partly filled last page per key); pool: every page allocated
  (``bytes_held``; freed pages stay in the pools for the next episodes),
* queued: the writer's ``bytes_queued`` (the exported episodes waiting); counted: recorded + queued; held: pool +
  queued,
* RSS growth: resident memory above its level before recording (sampled every 2 ms for the peak), in the last round
  also after glibc's ``malloc_trim(0)`` (memory the allocator keeps for reuse, told apart from memory in use),
* on CUDA (``--device cuda``): device memory allocated above its level before recording, and its peak, beside one
  step's batch (with early offload the recorder should hold about that much). On the CPU this is not measured, and
  the output says so.

Modes: ``sync``, ``async``, ``async_offload``. Each run is a process of its own (this script as a worker); every
round runs each mode once, in an order rotated every round. Results: ``<output_dir>/recorder_memory.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_memory.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_memory.py --device cuda
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_memory.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import gc
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

import torch
from benchmark_utils.cli import Size, benchmark_parser, name_list, parse_args, positive_int
from benchmark_utils.recorder import EXPORT_MODES, BenchRecorderCfg, EnvDouble
from benchmark_utils.report import Panel, fmt, markdown_table, start_report, write_results
from benchmark_utils.rounds import format_spread, run_rounds, select, spread
from benchmark_utils.rss import RssSampler, malloc_trim
from benchmark_utils.workers import run_script, run_worker

from isaaclab.managers import RecorderManager
from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

NAME = "recorder_memory"
"""Base name of the result files."""

MODES = ("sync", "async", "async_offload")
"""The recorder modes (settings from :data:`EXPORT_MODES`)."""

DEVICE_NOT_MEASURED = "not measured: the benchmark ran on the CPU (device memory exists only with --device cuda)"
"""What the results say about device memory on the CPU."""

SIZES = {
    "num_envs": Size(positive_int, 8, 4, "Parallel envs, at least 2."),
    "image_size": Size(positive_int, 128, 32, "Camera width and height."),
    "episode_length": Size(positive_int, 300, 20, "Steps per episode."),
    "rounds": Size(positive_int, 3, 2, "Episodes of env 0 exported."),
    "repeats": Size(positive_int, 5, 1, "Interleaved rounds (runs of every mode)."),
}
"""The size options."""


class HeldHDF5DatasetFileHandler(HDF5DatasetFileHandler):
    """An HDF5 handler whose writes wait until :attr:`release` is set: the exported episodes stay queued."""

    release = threading.Event()
    """Set to let the writes through."""

    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True):
        """Wait for :attr:`release`, then write the episode."""
        self.release.wait()
        super().write_episode(episode, demo_id, dataset_compression)


def parse_command_line(argv: Sequence[str] | None = None) -> Any:
    """Parse the command line (``--quick`` fills in the sizes not given)."""
    parser = benchmark_parser(__doc__, SIZES)
    parser.add_argument("--modes", type=name_list(MODES), default=list(MODES), help=",".join(MODES))
    parser.add_argument("--device", default="cpu", help="Device of the env buffers: cpu or cuda[:N].")
    args = parse_args(parser, argv, SIZES)
    if args.num_envs < 2:
        parser.error("--num_envs must be at least 2 (env 0 is exported while the others are reset)")
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but CUDA is not available")
    return args


"""
One run (in a worker process).
"""


def run_mode(task: dict[str, Any]) -> dict[str, Any]:
    """Run the scenario in one mode and measure it at every point."""
    torch.set_num_threads(1)
    device, num_envs, mode = task["device"], task["num_envs"], task["mode"]
    cuda = torch.device(device).type == "cuda"
    env = EnvDouble(num_envs, device, task["image_size"], num_cameras=1)
    if mode == "sync":
        HeldHDF5DatasetFileHandler.release.set()
    cfg = BenchRecorderCfg(
        dataset_export_dir_path=task["work_dir"],
        dataset_filename=f"{mode}_r{task['round']}",
        dataset_file_handler_class_type=HeldHDF5DatasetFileHandler,
        export_in_record_pre_reset=False,
        async_queue_size=task["rounds"] + 1,
        async_queue_max_bytes=1 << 40,
        **EXPORT_MODES[mode],
    )
    manager = RecorderManager(cfg, env)
    for _ in range(2):  # the first allocations and lazy imports, before the baselines
        _step(env, manager)
    manager.reset()
    gc.collect()
    device_base = _device_bytes(device) if cuda else None
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    points: dict[str, dict[str, Any]] = {}
    peak_counted = 0
    with RssSampler() as rss:

        def measure(name: str, trim: bool = False) -> None:
            gc.collect()
            pool, queued = manager.episode_memory, manager.writer_statistics.bytes_queued
            point = {"recorded": pool.bytes_recorded, "in_use": pool.bytes_in_use, "pool": pool.bytes_held}
            point.update(queued=queued, counted=pool.bytes_recorded + queued, held=pool.bytes_held + queued)
            point["rss_growth"] = rss.sample() - rss.start_bytes
            point["rss_growth_after_trim"] = rss.rss() - rss.start_bytes if trim and malloc_trim() else None
            point["device_growth"] = _device_bytes(device) - device_base if cuda else None
            points[name] = point

        for round_index in range(1, task["rounds"] + 1):
            for _ in range(task["episode_length"]):
                _step(env, manager)
                rss.sample()
            last = round_index == task["rounds"]  # malloc_trim changes what later rounds measure
            measure(f"round{round_index}_before_export", trim=last)
            peak_counted = max(peak_counted, points[f"round{round_index}_before_export"]["counted"])
            manager.set_success_to_episodes([0], torch.ones(1, dtype=torch.bool))
            manager.export_episodes([0])
            manager.reset(list(range(1, num_envs)))
            measure(f"round{round_index}_after_export", trim=last)
        peak_rss_growth = rss.peak_bytes - rss.start_bytes
        HeldHDF5DatasetFileHandler.release.set()
        manager.close()
        measure("after_drain")
    return {
        "points": points,
        "peak_counted": peak_counted,
        "peak_rss_growth": peak_rss_growth,
        "peak_device_growth": torch.cuda.max_memory_allocated(device) - device_base if cuda else None,
        "step_batch_bytes": env.step_bytes(),
        "episodes_written": manager.writer_statistics.episodes_written,
    }


def _step(env: EnvDouble, manager: RecorderManager) -> None:
    """One simulated step, recorded."""
    manager.record_pre_step()
    env.step()
    manager.record_post_step()


def _device_bytes(device: str) -> int:
    """The device memory torch has allocated, once the queued work is done."""
    torch.cuda.synchronize(device)
    return torch.cuda.memory_allocated(device)


"""
Summary and main.
"""

POINT_MEASURES = ("recorded", "in_use", "pool", "queued", "counted", "held", "rss_growth", "rss_growth_after_trim")
POINT_MEASURES += ("device_growth",)
"""What is measured at every point."""


def summarize(runs: list[dict[str, Any]], modes: list[str]) -> list[dict[str, Any]]:
    """One row per mode and point: the spreads over the rounds, in MB and as shares of the bytes counted."""
    rows = []
    for mode in modes:
        mine = select(runs, mode=mode)
        for point in mine[0]["points"]:
            values = [run["points"][point] for run in mine]
            row: dict[str, Any] = {"mode": mode, "point": point}
            row.update({key: spread([_mb(value[key]) for value in values]) for key in POINT_MEASURES})
            for key in ("held", "rss_growth", "rss_growth_after_trim"):
                row[f"{key}_to_counted"] = spread([_share(value[key], value["counted"]) for value in values])
            rows.append(row)
        peaks = {"mode": mode, "point": "peak"}
        peaks.update({key: spread([_mb(run[key]) for run in mine]) for key in ("peak_counted", "peak_rss_growth")})
        peaks["peak_device_growth"] = spread([_mb(run["peak_device_growth"]) for run in mine])
        peaks["rss_growth_to_counted"] = spread([_share(run["peak_rss_growth"], run["peak_counted"]) for run in mine])
        peaks["step_batch"] = _mb(mine[0]["step_batch_bytes"])
        rows.append(peaks)
    return rows


def _mb(value: float | None) -> float | None:
    """Bytes in MB (1e6 bytes)."""
    return None if value is None else value / 1e6


def _share(value: float | None, whole: float) -> float | None:
    """A value as a share of a whole (None without both)."""
    return None if value is None or not whole else value / whole


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse_command_line(argv)
    cuda = torch.device(args.device).type == "cuda"
    report = start_report(NAME, args, argv, args.device)
    task = {key: getattr(args, key) for key in ("num_envs", "image_size", "episode_length", "rounds", "device")}
    with tempfile.TemporaryDirectory(prefix="recorder_memory_") as work_dir:
        runs = run_rounds(
            args.modes,
            args.repeats,
            lambda _, mode, index: run_worker(__file__, {**task, "mode": mode, "round": index, "work_dir": work_dir}),
            summary=lambda results: f"peak RSS growth {results[0]['peak_rss_growth'] / 1e6:.0f} MB",
        )
    rows = summarize(runs, args.modes)
    report.update(device_memory="measured" if cuda else DEVICE_NOT_MEASURED, rows=rows, runs=runs)
    points = [name for name in runs[0]["points"] if name.startswith(("round1_after", f"round{args.rounds}", "after"))]
    header = ["mode", "point", "recorded MB", "in use MB", "pool MB", "queued MB", "held / counted"]
    header += ["RSS growth MB", "RSS growth / counted", "after malloc_trim / counted", "device growth MB"]
    table = [
        [row["mode"], row["point"].replace("_", " ")]
        + [format_spread(row[key], 1, "") for key in ("recorded", "in_use", "pool", "queued")]
        + [format_spread(row["held_to_counted"]), format_spread(row["rss_growth"], 1, "")]
        + [format_spread(row[key]) for key in ("rss_growth_to_counted", "rss_growth_after_trim_to_counted")]
        + [format_spread(row["device_growth"], 1, "") if cuda else "not measured"]
        for row in rows
        if row["point"] in points
    ]
    peak_header = ["mode", "peak counted MB", "peak RSS growth MB", "peak RSS growth / peak counted"]
    peak_header += ["peak device growth MB", "one step's batch MB"]
    peaks = [
        [row["mode"], *(format_spread(row[key], 1, "") for key in ("peak_counted", "peak_rss_growth"))]
        + [format_spread(row["rss_growth_to_counted"])]
        + [format_spread(row["peak_device_growth"], 1, "") if cuda else "not measured", fmt(row["step_batch"], 2)]
        for row in rows
        if row["point"] == "peak"
    ]
    sections = [
        f"{args.num_envs} envs, a {args.image_size}x{args.image_size} RGB camera plus state, {args.episode_length}"
        f" steps per episode, {args.rounds} rounds of: record, export env 0, reset the others; writes held until the"
        f" end; device {args.device}; {args.repeats} interleaved round(s), each run a process: median [min-max].",
        markdown_table(header, table, 2),
        markdown_table(peak_header, peaks),
        "recorded: episode_memory.bytes_recorded; in use: bytes_in_use; pool: bytes_held; queued: the writer's"
        " bytes_queued; counted: recorded + queued; held: pool + queued.",
        f"Device memory: {report['device_memory']}.",
    ]
    last = f"round{args.rounds}_before_export"
    series = {"counted": "counted", "held (pool + queued)": "held", "RSS growth": "rss_growth"}
    panels = [
        Panel(
            point.replace("_", " "),
            list(args.modes),
            {
                label: [select(rows, mode=mode, point=point)[0][key] for mode in args.modes]
                for label, key in series.items()
            },
            "MB (median, range over rounds)",
        )
        for point in (last, f"round{args.rounds}_after_export")
    ]
    write_results(args.output_dir, NAME, "Recorder memory: counted, held and resident", report, sections, panels)
    if not cuda:
        print("[INFO] Device memory could not be measured: the benchmark ran on the CPU (--device cuda on a GPU).")
    return 0


if __name__ == "__main__":
    run_script(main, run_mode)
