# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark the memory the recorder holds: bytes it counts against bytes really held.

The scenario: ``--num_envs`` envs (default 8) record a ``--image_size`` RGB camera (default 128x128, uint8) plus
low-dimensional state for ``--episode_length`` steps (default 300); then env 0's episode is exported while the other
envs are reset (their episodes dropped), ``--rounds`` times. The writer's file handler holds every write until the
end of the run, so the exported episodes stay queued, as they do behind a slow writer.

At the end of the last episode (before its export), after its export, at the peak, and after the final drain it
compares:

* bytes counted: what the recorder accounts for, the writer's ``bytes_queued`` (and ``peak_queue_bytes``) plus
  ``EpisodeData.nbytes`` of the live episodes (``RecorderManager.get_episode``),
* bytes held: the sum of ``untyped_storage().nbytes()`` over the distinct tensor storages reachable from every
  ``EpisodeData`` alive in the process (live, queued, or being written), found with the garbage collector,
* RSS growth: the process's resident memory above its level before recording (psutil, sampled every step and by a
  thread every few milliseconds for the peak); in the last round it is also measured after ``malloc_trim(0)``
  (glibc), which returns free heap pages to the OS, so that memory the allocator keeps for reuse is told apart from
  memory still in use,
* on CUDA (``--device cuda``): device memory allocated (``torch.cuda.memory_allocated``, peak with
  ``max_memory_allocated``) above its level before recording. On the CPU this is not measured, and the output and
  the JSON say so.

Modes (each run in its own process, so that runs share no heap; ``--repeats`` runs of every mode, interleaved, and
the tables show the median and the range):

* ``async``: ``async_write``,
* ``async_offload``: ``async_write`` and ``early_cpu_offload``,
* ``sync``: the default recorder (the writer is inline, so nothing is ever queued),
* ``row_views``: the earlier recorder, emulated: one copy of each recorded batch per step, and each env's episode
  keeping a view of its row of it. It shows what the benchmark detects: the bytes counted are those of the rows,
  the bytes held those of whole batches.

Results: ``<output_dir>/recorder_memory.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_memory.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_memory.py --device cuda
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_memory.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import datetime
import gc
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import psutil
import torch

from isaaclab.managers import DatasetExportMode, RecorderManager, RecorderManagerBaseCfg, RecorderTerm, RecorderTermCfg
from isaaclab.utils import configclass
from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

RESULT_NAME = "recorder_memory"
"""Base name of the result files."""

MODES = ("async", "async_offload", "sync", "row_views")
"""The recorder modes, in the order they run."""

DEVICE_NOT_MEASURED = "not measured: no CUDA device (the benchmark ran on the CPU)"
"""What the results say about device memory on the CPU."""

QUICK = {"num_envs": 4, "image_size": 32, "episode_length": 20, "rounds": 2, "repeats": 1}
"""The sizes of ``--quick``: a seconds-long smoke run."""


"""
The synthetic env, recorder terms and a writer that holds its writes.
"""


class MemoryBenchEnv:
    """The attributes the recorder reads, and per-signal buffers rewritten in place every step (like a simulator)."""

    def __init__(self, num_envs: int, device: str, image_size: int, seed: int) -> None:
        self.num_envs = num_envs
        self.device = device
        self.cfg = SimpleNamespace(
            sim=SimpleNamespace(dt=1 / 120, render_interval=2),
            decimation=2,
            scene=SimpleNamespace(num_envs=num_envs),
            env_name="Isaac-RecorderMemoryBenchmark-v0",
        )
        generator = torch.Generator().manual_seed(seed)
        self._frames = torch.randint(0, 256, (8, image_size, image_size, 3), dtype=torch.uint8, generator=generator)
        self._frames = self._frames.to(device)
        self._env_index = torch.arange(num_envs, device=device)
        self.actions = torch.zeros(num_envs, 7, device=device)
        self.obs = {
            "joint_pos": torch.zeros(num_envs, 9, device=device),
            "camera": torch.zeros(num_envs, image_size, image_size, 3, dtype=torch.uint8, device=device),
        }
        self.states = {"robot_root_pose": torch.zeros(num_envs, 7, device=device)}
        self.step_count = 0

    def step(self) -> None:
        """Write the values of the next step into every buffer (in place)."""
        self.step_count += 1
        t = torch.full((self.num_envs, 1), self.step_count * 0.01, device=self.device)
        self.actions.copy_(torch.sin(t + torch.arange(7, device=self.device)))
        self.obs["joint_pos"].copy_(torch.cos(t + torch.arange(9, device=self.device)))
        self.states["robot_root_pose"].copy_(torch.sin(t * 2 + torch.arange(7, device=self.device)))
        self.obs["camera"].copy_(self._frames[(self._env_index + self.step_count) % len(self._frames)])


class PreStepActionsTerm(RecorderTerm):
    def record_pre_step(self):
        return "actions", self._env.actions


class PostStepObsTerm(RecorderTerm):
    def record_post_step(self):
        return "obs", self._env.obs


class PostStepStatesTerm(RecorderTerm):
    def record_post_step(self):
        return "states", self._env.states


@configclass
class MemoryBenchRecorderCfg(RecorderManagerBaseCfg):
    record_actions = RecorderTermCfg(class_type=PreStepActionsTerm)
    record_obs = RecorderTermCfg(class_type=PostStepObsTerm)
    record_states = RecorderTermCfg(class_type=PostStepStatesTerm)


class HeldHDF5DatasetFileHandler(HDF5DatasetFileHandler):
    """An HDF5 handler whose writes wait until :attr:`release` is set: the exported episodes stay queued."""

    release = threading.Event()
    """Set to let the writes through."""

    def write_episode(self, episode: EpisodeData, demo_id: int | None = None, dataset_compression: bool = True):
        """Wait for :attr:`release`, then write the episode."""
        self.release.wait()
        super().write_episode(episode, demo_id, dataset_compression)


class RowViewRecorderManager(RecorderManager):
    """The earlier recorder's memory behaviour, emulated: every recorded batch is copied once per step and each env's
    episode keeps a view of its row of that copy, so an episode holds the whole batch's storage."""

    def add_to_episodes(self, key: str, value: torch.Tensor | dict, env_ids: Sequence[int] | None = None) -> None:
        """Append a view of each env's row of one copy of the batch."""
        if key is None or value is None:
            return
        env_ids = list(range(self._env.num_envs)) if env_ids is None else [int(env_id) for env_id in env_ids]
        for leaf_key, batch in _leaves(key, value):
            batch_copy = batch.clone()
            for row, env_id in zip(batch_copy.unbind(0), env_ids):
                self.get_episode(env_id).append_owned(leaf_key, row)


def _leaves(key: str, value: Any) -> list[tuple[str, torch.Tensor]]:
    """``(key/sub_key, tensor)`` for every leaf of a (nested) dict value."""
    if isinstance(value, dict):
        return [leaf for sub_key, sub_value in value.items() for leaf in _leaves(f"{key}/{sub_key}", sub_value)]
    return [(key, value)]


"""
Measuring.
"""


def storage_bytes(tensors: list[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind the tensors: what they keep allocated (a view keeps its whole base).

    Args:
        tensors: The tensors.

    Returns:
        The sum of ``untyped_storage().nbytes()`` over distinct storages (by device and data pointer).
    """
    storages: dict[tuple[str, int], int] = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        storages[(str(tensor.device), storage.data_ptr())] = storage.nbytes()
    return sum(storages.values())


def episode_tensors(episode: EpisodeData) -> list[torch.Tensor]:
    """Every tensor an episode holds (per-step lists and stacked tensors, at any depth)."""
    tensors: list[torch.Tensor] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)
        elif isinstance(node, torch.Tensor):
            tensors.append(node)

    visit(episode.data)
    return tensors


def alive_episodes() -> list[EpisodeData]:
    """Every :class:`EpisodeData` alive in the process: the live, queued and in-writing episodes."""
    # type() rather than isinstance(): isinstance reads __class__, which some lazy module objects turn into warnings
    return [obj for obj in gc.get_objects() if issubclass(type(obj), EpisodeData)]


def bytes_held() -> int:
    """Bytes of the distinct storages reachable from every alive episode."""
    return storage_bytes([tensor for episode in alive_episodes() for tensor in episode_tensors(episode)])


def bytes_counted(manager: RecorderManager, num_envs: int) -> tuple[int, int, int]:
    """What the recorder counts: (queued bytes, live episode bytes, total)."""
    queued = manager.writer_statistics.bytes_queued
    live = sum(manager.get_episode(env_id).nbytes for env_id in range(num_envs))
    return queued, live, queued + live


class RssSampler:
    """Samples the process's resident memory on a thread every few milliseconds; keeps the peak."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self._process = psutil.Process()
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak_bytes = self.rss()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def rss(self) -> int:
        """The current resident memory, in bytes."""
        return self._process.memory_info().rss

    def sample(self) -> int:
        """Sample now; returns the current resident memory."""
        rss = self.rss()
        self.peak_bytes = max(self.peak_bytes, rss)
        return rss

    def reset_peak(self) -> None:
        """Start a new peak from now."""
        self.peak_bytes = self.rss()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()


def malloc_trim() -> bool:
    """Return the heap's free pages to the OS (glibc ``malloc_trim(0)``); returns whether it could be called."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        if not hasattr(libc, "malloc_trim"):
            return False
        libc.malloc_trim(0)
    except OSError:
        return False
    return True


"""
One mode, in its own process.
"""


def run_mode(mode: str, args: dict[str, Any], work_dir: str) -> dict[str, Any]:
    """Run the scenario in one mode in this process and measure it.

    Args:
        mode: One of :data:`MODES`.
        args: The parsed arguments, as a dict.
        work_dir: Where the dataset file goes.

    Returns:
        The measurements at every point, the writer statistics and the device memory (or why it was not measured).
    """
    torch.set_num_threads(1)
    device = args["device"]
    cuda = device.startswith("cuda")
    num_envs = args["num_envs"]
    env = MemoryBenchEnv(num_envs, device, args["image_size"], args["seed"])
    held_writes = mode in ("async", "async_offload", "row_views")
    cfg = MemoryBenchRecorderCfg(
        dataset_export_dir_path=work_dir,
        dataset_filename=f"memory_{mode}",
        dataset_export_mode=DatasetExportMode.EXPORT_ALL,
        dataset_file_handler_class_type=HeldHDF5DatasetFileHandler if held_writes else HDF5DatasetFileHandler,
        export_in_record_pre_reset=False,
        async_write=held_writes,
        early_cpu_offload=mode == "async_offload",
        async_queue_size=max(16, args["rounds"] + 1),
        async_queue_max_bytes=1 << 40,
    )
    if not held_writes:
        HeldHDF5DatasetFileHandler.release.set()
    manager_class = RowViewRecorderManager if mode == "row_views" else RecorderManager
    manager = manager_class(cfg, env)

    # warm up the recording path (first allocations, lazy imports), then take the baselines
    for _ in range(2):
        env.step()
        manager.record_pre_step()
        manager.record_post_step()
    manager.reset()
    gc.collect()
    if cuda:
        torch.cuda.synchronize()
        device_base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    points: dict[str, dict[str, Any]] = {}
    peak_counted = 0
    with RssSampler() as rss:
        rss_base = rss.sample()

        def measure(name: str, trim: bool = False) -> None:
            gc.collect()
            queued, live, counted = bytes_counted(manager, num_envs)
            held = bytes_held()
            current = rss.sample()
            point = {
                "bytes_queued": queued,
                "bytes_live": live,
                "bytes_counted": counted,
                "bytes_held": held,
                "held_over_counted": held / counted if counted else None,
                "rss_growth": current - rss_base,
                "rss_growth_over_counted": (current - rss_base) / counted if counted else None,
                "episodes_alive": len(alive_episodes()),
                "device_allocated_growth": torch.cuda.memory_allocated() - device_base if cuda else None,
            }
            if trim:
                trimmed = malloc_trim()
                after = rss.rss()
                point["rss_growth_after_trim"] = after - rss_base if trimmed else None
                point["rss_growth_after_trim_over_counted"] = (
                    (after - rss_base) / counted if trimmed and counted else None
                )
            points[name] = point

        start = time.perf_counter()
        for round_index in range(args["rounds"]):
            for _ in range(args["episode_length"]):
                env.step()
                manager.record_pre_step()
                manager.record_post_step()
                rss.sample()
                peak_counted = max(peak_counted, bytes_counted(manager, num_envs)[2])
            last = round_index == args["rounds"] - 1
            measure(f"round{round_index + 1}_before_export", trim=last)
            manager.set_success_to_episodes([0], torch.ones(1, dtype=torch.bool))
            manager.export_episodes([0])
            manager.reset(list(range(1, num_envs)))
            peak_counted = max(peak_counted, bytes_counted(manager, num_envs)[2])
            # malloc_trim changes what later rounds measure: only in the last round
            measure(f"round{round_index + 1}_after_export", trim=last)
        loop_seconds = time.perf_counter() - start
        peak_rss_growth = rss.peak_bytes - rss_base
        peak_device_growth = torch.cuda.max_memory_allocated() - device_base if cuda else None

        # let the writes through and drain the writer
        rss.reset_peak()
        HeldHDF5DatasetFileHandler.release.set()
        drain_start = time.perf_counter()
        manager.close()
        drain_seconds = time.perf_counter() - drain_start
        measure("after_drain")
        drain_peak_rss_growth = rss.peak_bytes - rss_base
    stats = manager.writer_statistics
    return {
        "mode": mode,
        "points": points,
        "peak_bytes_counted": peak_counted,
        "peak_queue_bytes": stats.peak_queue_bytes,
        "peak_rss_growth": peak_rss_growth,
        "peak_rss_growth_over_peak_counted": peak_rss_growth / peak_counted if peak_counted else None,
        "drain_peak_rss_growth": drain_peak_rss_growth,
        "peak_device_growth": peak_device_growth,
        "device_memory": "torch.cuda memory allocated above the level before recording"
        if cuda
        else DEVICE_NOT_MEASURED,
        "episodes_written": stats.episodes_written,
        "loop_seconds": loop_seconds,
        "drain_seconds": drain_seconds,
        "rss_base": rss_base,
    }


def _mode_process(mode: str, args: dict[str, Any], work_dir: str, result_path: str) -> None:
    """Entry point of a mode's process: run it and write its result as JSON."""
    result = run_mode(mode, args, work_dir)
    with open(result_path, "w") as file:
        json.dump(result, file, indent=2)


def run_modes(args: argparse.Namespace, work_dir: str) -> list[dict[str, Any]]:
    """Run every mode once per repeat, each run in its own (spawned) process, with the order of the modes rotated by
    one on every repeat; returns the results of every run.

    Raises:
        RuntimeError: If a run's process fails.
    """
    context = multiprocessing.get_context("spawn")
    results = []
    for repeat in range(args.repeats):
        shift = repeat % len(args.modes)
        for mode in args.modes[shift:] + args.modes[:shift]:
            result_path = os.path.join(work_dir, f"{mode}-r{repeat}.json")
            process = context.Process(target=_mode_process, args=(mode, vars(args), work_dir, result_path))
            process.start()
            process.join()
            if process.exitcode != 0 or not os.path.isfile(result_path):
                raise RuntimeError(f"The '{mode}' run of repeat {repeat + 1} failed (exit code {process.exitcode}).")
            with open(result_path) as file:
                result = json.load(file)
            result["repeat"] = repeat
            point = result["points"][f"round{args.rounds}_after_export"]
            print(
                f"[memory-bench] repeat {repeat + 1}/{args.repeats} {mode:14s} counted"
                f" {point['bytes_counted'] / 1e6:7.1f} MB  held {point['bytes_held'] / 1e6:7.1f} MB  peak RSS growth"
                f" {result['peak_rss_growth'] / 1e6:7.1f} MB",
                flush=True,
            )
            results.append(result)
    return results


"""
Summaries and reports.
"""


def table_points(rounds: int) -> list[str]:
    """The measuring points the table shows (the JSON has every round's): the first export (the scenario of one
    queued episode), the last round before and after its export, and the end."""
    names = ["round1_after_export", f"round{rounds}_before_export", f"round{rounds}_after_export", "after_drain"]
    return list(dict.fromkeys(names))


POINT_MEASURES = (
    "bytes_queued",
    "bytes_live",
    "bytes_counted",
    "bytes_held",
    "held_over_counted",
    "rss_growth",
    "rss_growth_over_counted",
    "rss_growth_after_trim",
    "rss_growth_after_trim_over_counted",
    "device_allocated_growth",
)
"""The measurements of a point summarized over the repeats."""

RUN_MEASURES = (
    "peak_bytes_counted",
    "peak_queue_bytes",
    "peak_rss_growth",
    "peak_rss_growth_over_peak_counted",
    "drain_peak_rss_growth",
    "peak_device_growth",
)
"""The measurements of a run summarized over the repeats."""


def spread(values: list[float | None]) -> dict[str, float | None]:
    """Minimum, median and maximum of the values that are not None (all None if there are none)."""
    present = [value for value in values if value is not None]
    if not present:
        return {"min": None, "median": None, "max": None}
    return {"min": min(present), "median": statistics.median(present), "max": max(present)}


def summarize(results: list[dict[str, Any]], modes: list[str]) -> list[dict[str, Any]]:
    """One row per mode: the spread over the repeats of every measurement, at every point and of the whole run."""
    rows = []
    for mode in modes:
        runs = [result for result in results if result["mode"] == mode]
        row: dict[str, Any] = {"mode": mode, "repeats": len(runs), "points": {}}
        for name in runs[0]["points"]:
            row["points"][name] = {
                key: spread([run["points"][name].get(key) for run in runs]) for key in POINT_MEASURES
            }
        row.update({key: spread([run[key] for run in runs]) for key in RUN_MEASURES})
        rows.append(row)
    return rows


def _mb(value: dict[str, float | None], digits: int = 1) -> str:
    """A spread of bytes as MB: the median, and the range when it is not one value."""
    return _fmt({key: None if number is None else number / 1e6 for key, number in value.items()}, digits, "")


def _fmt(value: dict[str, float | None], digits: int = 2, suffix: str = "x") -> str:
    """A spread as ``median [min-max]`` (just the median when all are equal at this precision; - when missing)."""
    if value["median"] is None:
        return "-"
    median = f"{value['median']:.{digits}f}{suffix}"
    low, high = f"{value['min']:.{digits}f}", f"{value['max']:.{digits}f}"
    return median if low == high else f"{median} [{low}-{high}]"


def markdown_table(report: dict[str, Any]) -> str:
    """The results as a markdown document: one table of points, one of peaks (medians, [min-max] over repeats)."""
    args, machine = report["args"], report["machine"]
    cuda = args["device"].startswith("cuda")
    lines = [
        "# Recorder memory benchmark",
        "",
        f"{args['num_envs']} envs, a {args['image_size']}x{args['image_size']} RGB camera plus state,"
        f" {args['episode_length']} steps per episode, {args['rounds']} round(s) of: record, export env 0, reset the"
        f" others; writes held until the end (exported episodes stay queued); device {args['device']};"
        f" {args['repeats']} interleaved repeat(s), each run in its own process: median [min-max].",
        f"Machine: {machine['cpu_count']} CPUs, torch {machine['torch']}, {machine['platform']}.",
        "",
        "| mode | point | queued MB | live MB | counted MB | held MB | held / counted | RSS growth MB |"
        " RSS growth / counted | after malloc_trim / counted |" + (" device growth MB |" if cuda else ""),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: |" if cuda else ""),
    ]
    for row in report["rows"]:
        for name in table_points(args["rounds"]):
            point = row["points"][name]
            cells = [
                row["mode"],
                name.replace("_", " "),
                _mb(point["bytes_queued"]),
                _mb(point["bytes_live"]),
                _mb(point["bytes_counted"]),
                _mb(point["bytes_held"]),
                _fmt(point["held_over_counted"]),
                _mb(point["rss_growth"]),
                _fmt(point["rss_growth_over_counted"]),
                _fmt(point["rss_growth_after_trim_over_counted"]),
            ]
            if cuda:
                cells.append(_mb(point["device_allocated_growth"]))
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| mode | peak counted MB | peak queue MB (writer) | peak RSS growth MB | peak RSS growth / peak counted |"
        " peak RSS growth while draining MB | peak device growth MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in report["rows"]:
        cells = [
            row["mode"],
            _mb(row["peak_bytes_counted"]),
            _mb(row["peak_queue_bytes"]),
            _mb(row["peak_rss_growth"]),
            _fmt(row["peak_rss_growth_over_peak_counted"]),
            _mb(row["drain_peak_rss_growth"]),
            _mb(row["peak_device_growth"]) if cuda else "not measured (no CUDA)",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "counted: the writer's bytes_queued plus EpisodeData.nbytes of the live episodes; held: distinct tensor"
        " storages reachable from every EpisodeData alive; RSS growth: resident memory above the level before"
        " recording; after malloc_trim: the same once glibc returned its free heap pages (last round only).",
        f"Device memory: {report['device_memory']}.",
    ]
    return "\n".join(lines) + "\n"


def write_plot(path: str, report: dict[str, Any]) -> None:
    """Bars of counted, held, RSS growth and RSS growth after malloc_trim per mode, at the last round's two points
    (medians, with the range over the repeats)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    names = [row["mode"] for row in rows]
    series = [
        ("counted (queued + live)", "bytes_counted", "tab:blue"),
        ("held (storages)", "bytes_held", "tab:orange"),
        ("RSS growth", "rss_growth", "tab:gray"),
        ("RSS growth after malloc_trim", "rss_growth_after_trim", "tab:green"),
    ]
    rounds = report["args"]["rounds"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.2
    for ax, point_name in zip(axes, (f"round{rounds}_before_export", f"round{rounds}_after_export")):
        for index, (label, key, color) in enumerate(series):
            values = [row["points"][point_name][key] for row in rows]
            medians = [(value["median"] or 0) / 1e6 for value in values]
            yerr = [
                [((value["median"] or 0) - (value["min"] or 0)) / 1e6 for value in values],
                [((value["max"] or 0) - (value["median"] or 0)) / 1e6 for value in values],
            ]
            positions = [position + (index - 1.5) * width for position in range(len(names))]
            ax.bar(positions, medians, width=width, yerr=yerr, capsize=2, label=label, color=color)
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("MB (median, range over repeats)")
        ax.set_title(point_name.replace("_", " "), fontsize=10)
        ax.legend(fontsize=8)
    args = report["args"]
    fig.suptitle(
        f"Recorder memory: {args['num_envs']} envs, {args['image_size']}px camera, {args['episode_length']} steps,"
        f" export env 0 and reset the others, {rounds} rounds ({args['device']}, {args['repeats']} repeats)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


"""
Main.
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``--quick`` sets the sizes not given explicitly)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_envs", type=int, default=None, help="Parallel envs (default: 8).")
    parser.add_argument("--image_size", type=int, default=None, help="Camera width and height (default: 128).")
    parser.add_argument("--episode_length", type=int, default=None, help="Steps per episode (default: 300).")
    parser.add_argument("--rounds", type=int, default=None, help="Episodes of env 0 exported (default: 3).")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="Modes to run.")
    parser.add_argument("--device", default="cpu", help="Device of the env buffers: cpu or cuda[:N].")
    parser.add_argument("--repeats", type=int, default=None, help="Runs of every mode, interleaved (default: 3).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic images.")
    parser.add_argument("--output_dir", default="./benchmark_results", help="Folder of the result files.")
    parser.add_argument("--quick", action="store_true", help="A seconds-long smoke run with tiny sizes.")
    args = parser.parse_args(argv)
    defaults = {"num_envs": 8, "image_size": 128, "episode_length": 300, "rounds": 3, "repeats": 3}
    for key, default in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else default)
    for name in defaults:
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.num_envs < 2:
        parser.error("--num_envs must be at least 2 (env 0 is exported while the others are reset)")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but CUDA is not available")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the report."""
    args = parse_args(argv)
    cuda = args.device.startswith("cuda")
    os.makedirs(args.output_dir, exist_ok=True)
    work_dir = tempfile.mkdtemp(prefix="recorder_memory_")
    started = time.perf_counter()
    try:
        results = run_modes(args, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    report = {
        "benchmark": RESULT_NAME,
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["benchmark_recorder_memory.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "cuda_device": torch.cuda.get_device_name(args.device) if cuda else None,
        },
        "args": vars(args),
        "device_memory_measured": cuda,
        "device_memory": "torch.cuda.memory_allocated / max_memory_allocated above the level before recording"
        if cuda
        else DEVICE_NOT_MEASURED,
        "total_seconds": time.perf_counter() - started,
        "rows": summarize(results, args.modes),
        "runs": results,
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
    if not cuda:
        print(f"[memory-bench] Peak device memory: {DEVICE_NOT_MEASURED}.")
    print(f"[memory-bench] Results: {base}.json, {base}.md, {base}.png")
    return report


if __name__ == "__main__":
    main()
