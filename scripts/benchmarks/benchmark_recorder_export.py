# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark the recorder's episode export: no export vs synchronous vs asynchronous (vs asynchronous with early CPU
offload).

A recorder-level benchmark that needs no simulator and no Mimic: a synthetic env fills its buffers every step (actions,
states, low-dimensional observations and, for the ``cameras`` payload, two RGB cameras), the recorder records them
through recorder terms, and each env exports its episode when it ends. Episode ends are staggered over the envs, as in
a real parallel run, so most calls to ``export_episodes`` export one episode. A simulated physics step
(``--sim_step_ms``, a sleep, as when the CPU waits on a GPU simulator) runs between the pre- and post-step records.

Modes:

* ``no_export``: the recorder records every step, and ``export_episodes`` drops the episodes (``EXPORT_NONE``): the
  baseline of the loop's time,
* ``sync``: episodes are written inside ``export_episodes`` (the Isaac Lab default),
* ``async``: ``async_write``,
* ``async_offload``: ``async_write`` and ``early_cpu_offload``.

Every (payload, episode length) runs every mode once per repeat round, the modes in an order rotated by one on every
round; ratios are taken within a round. For every payload, episode length and mode it reports:

- how long ``export_episodes`` holds the caller per episode (mean, p95; medians over the rounds), and the per-round
  ratio of the mean to sync's;
- the loop's time without and with the final drain (``close()``), and their per-round ratios to ``no_export``'s
  (median and range);
- the writer's throughput (tensor MB per second of writing), the peak queue depth and the blocked time;
- the peak resident memory of the process (psutil, sampled every few ms) and its growth during the run;
- with ``--device cuda``: the peak ``torch.cuda.max_memory_allocated`` during the run (with and without offload).
  On the CPU device memory cannot be measured; the results say so.

Results are printed as a markdown table and saved as JSON, markdown and a chart (``recorder_export.{json,md,png}``)
under ``--output_dir``.

Example::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_export.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_export.py --quick
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_export.py --device cuda --image_size 128 --num_envs 16
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import psutil
import torch

from isaaclab.managers import (
    DatasetExportMode,
    RecorderManager,
    RecorderManagerBaseCfg,
    RecorderTerm,
    RecorderTermCfg,
)
from isaaclab.utils import configclass

MODES = ("no_export", "sync", "async", "async_offload")
PAYLOADS = ("state", "cameras")
DEVICE_MEMORY_NOT_MEASURED = "not measured: the benchmark ran on the CPU (device memory exists only with --device cuda)"

"""
The synthetic env and its recorder terms.
"""


class BenchEnv:
    """The attributes the recorder reads, and per-signal buffers rewritten in place every step (like a simulator)."""

    NUM_JOINTS = 9
    FRAME_BANK = 16

    def __init__(self, num_envs: int, device: str, payload: str, image_size: int, sim_step_ms: float, seed: int):
        self.num_envs = num_envs
        self.device = device
        self.sim_step_s = sim_step_ms / 1000.0
        self.cfg = SimpleNamespace(
            sim=SimpleNamespace(dt=1 / 120, render_interval=2),
            decimation=2,
            scene=SimpleNamespace(num_envs=num_envs),
            env_name="Isaac-RecorderBenchmark-v0",
        )
        generator = torch.Generator().manual_seed(seed)
        self._phase = torch.rand(num_envs, 1, generator=generator).to(device)
        self._env_index = torch.arange(num_envs, device=device)
        self.actions = torch.zeros(num_envs, 7, device=device)
        self.obs = {
            "eef_pos": torch.zeros(num_envs, 3, device=device),
            "eef_quat": torch.zeros(num_envs, 4, device=device),
            "joint_pos": torch.zeros(num_envs, self.NUM_JOINTS, device=device),
            "joint_vel": torch.zeros(num_envs, self.NUM_JOINTS, device=device),
        }
        self.states = {
            "articulation": {
                "robot": {
                    "root_pose": torch.zeros(num_envs, 7, device=device),
                    "root_velocity": torch.zeros(num_envs, 6, device=device),
                    "joint_position": torch.zeros(num_envs, self.NUM_JOINTS, device=device),
                    "joint_velocity": torch.zeros(num_envs, self.NUM_JOINTS, device=device),
                }
            },
            "rigid_object": {
                "cube": {
                    "root_pose": torch.zeros(num_envs, 7, device=device),
                    "root_velocity": torch.zeros(num_envs, 6, device=device),
                }
            },
        }
        self.cameras: dict[str, torch.Tensor] = {}
        self._frames = None
        if payload == "cameras":
            self._frames = _camera_frames(self.FRAME_BANK, image_size, generator).to(device)
            for name in ("table_cam", "wrist_cam"):
                self.cameras[name] = torch.zeros(num_envs, image_size, image_size, 3, dtype=torch.uint8, device=device)
        self.step_count = 0

    def fill(self) -> None:
        """Write the values of the current step into every buffer (in place)."""
        t = self.step_count * 0.01 + self._phase
        self.actions.copy_(torch.sin(t + torch.arange(7, device=self.device)))
        self.obs["eef_pos"].copy_(torch.cos(t + torch.arange(3, device=self.device)))
        self.obs["eef_quat"].copy_(
            torch.nn.functional.normalize(torch.sin(t + torch.arange(4, device=self.device)), dim=1)
        )
        joints = torch.sin(t + torch.arange(self.NUM_JOINTS, device=self.device) * 0.3)
        self.obs["joint_pos"].copy_(joints)
        self.obs["joint_vel"].copy_(torch.cos(t * 2 + torch.arange(self.NUM_JOINTS, device=self.device)))
        robot = self.states["articulation"]["robot"]
        robot["joint_position"].copy_(joints)
        robot["joint_velocity"].copy_(self.obs["joint_vel"])
        robot["root_pose"].copy_(torch.cat([self.obs["eef_pos"], self.obs["eef_quat"]], dim=1))
        robot["root_velocity"].copy_(torch.sin(t * 3 + torch.arange(6, device=self.device)))
        cube = self.states["rigid_object"]["cube"]
        cube["root_pose"].copy_(robot["root_pose"] * 0.5)
        cube["root_velocity"].copy_(robot["root_velocity"] * 0.5)
        for offset, camera in enumerate(self.cameras.values()):
            index = (self._env_index + self.step_count + offset * 5) % self.FRAME_BANK
            camera.copy_(self._frames[index])

    def simulate(self) -> None:
        """The physics step: the CPU thread waits (a sleep releases the GIL, as waiting on a GPU does)."""
        self.step_count += 1
        if self.sim_step_s > 0:
            time.sleep(self.sim_step_s)


def _camera_frames(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Camera-like frames: smooth colour fields (upsampled coarse noise) plus a little pixel noise, as uint8."""
    coarse = torch.rand(count, 3, 6, 6, generator=generator)
    smooth = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    noise = torch.rand(count, 3, size, size, generator=generator) * 0.06
    frames = ((smooth * 0.94 + noise) * 255).clamp(0, 255).to(torch.uint8)
    return frames.permute(0, 2, 3, 1).contiguous()


class PreStepActionsTerm(RecorderTerm):
    def record_pre_step(self):
        return "actions", self._env.actions


class PostStepObsTerm(RecorderTerm):
    def record_post_step(self):
        return "obs", {**self._env.obs, **self._env.cameras}


class PostStepStatesTerm(RecorderTerm):
    def record_post_step(self):
        return "states", self._env.states


@configclass
class BenchRecorderCfg(RecorderManagerBaseCfg):
    record_actions = RecorderTermCfg(class_type=PreStepActionsTerm)
    record_obs = RecorderTermCfg(class_type=PostStepObsTerm)
    record_states = RecorderTermCfg(class_type=PostStepStatesTerm)


"""
Measuring.
"""


class RssSampler:
    """Samples the process's resident memory on a thread every few milliseconds; keeps the peak."""

    def __init__(self, interval_s: float = 0.005):
        self._process = psutil.Process()
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.start_bytes = self._process.memory_info().rss
        self.peak_bytes = self.start_bytes
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def run_config(payload: str, length: int, mode: str, args: argparse.Namespace, work_dir: str, repeat: int) -> dict:
    """Record and export ``args.episodes_per_env`` episodes of ``length`` steps in every env; return the metrics."""
    cuda = args.device.startswith("cuda")
    env = BenchEnv(args.num_envs, args.device, payload, args.image_size, args.sim_step_ms, args.seed)
    no_export = mode == "no_export"
    cfg = BenchRecorderCfg(
        dataset_export_dir_path=work_dir,
        dataset_filename=f"{payload}_{length}_{mode}_r{repeat}",
        dataset_export_mode=DatasetExportMode.EXPORT_NONE if no_export else DatasetExportMode.EXPORT_ALL,
        dataset_compression=not args.no_compression,
        export_in_record_pre_reset=False,
        async_write=mode in ("async", "async_offload"),
        early_cpu_offload=mode == "async_offload",
        async_queue_size=args.queue_size,
        async_queue_max_bytes=int(args.queue_max_mb * 1024**2),
    )
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        device_base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()

    num_envs = args.num_envs
    # staggered episode ends: env e ends its episodes at the steps where (step + offset_e) % length == 0
    offsets = [env_id * length // num_envs for env_id in range(num_envs)]
    recorded = [0] * num_envs
    exported = [0] * num_envs
    holds: list[float] = []
    exported_bytes = 0
    calls = 0
    gc.collect()
    with RssSampler() as rss:
        manager = RecorderManager(cfg, env)
        start = time.perf_counter()
        env.fill()
        while min(exported) < args.episodes_per_env:
            manager.record_pre_step()  # the action buffer holds this step's action
            env.simulate()
            env.fill()  # the step's outcome (and the next action)
            manager.record_post_step()
            recorded = [count + 1 for count in recorded]
            ending = [e for e in range(num_envs) if (env.step_count + offsets[e]) % length == 0]
            if not ending:
                continue
            # an env's first, partial episode (before its stagger offset) and episodes past the target are dropped
            to_export = [e for e in ending if recorded[e] == length and exported[e] < args.episodes_per_env]
            to_drop = [e for e in ending if e not in to_export]
            if to_export:
                exported_bytes += sum(manager.get_episode(e).nbytes for e in to_export)
                manager.set_success_to_episodes(to_export, torch.ones(len(to_export), dtype=torch.bool))
                call_start = time.perf_counter()
                manager.export_episodes(to_export)
                held = time.perf_counter() - call_start
                holds.extend([held / len(to_export)] * len(to_export))
                calls += 1
                for e in to_export:
                    exported[e] += 1
            if to_drop:
                manager.reset(to_drop)
            for e in ending:
                recorded[e] = 0
        loop_s = time.perf_counter() - start
        if cuda:
            torch.cuda.synchronize()
        close_start = time.perf_counter()
        manager.close()
        drain_s = time.perf_counter() - close_start
        wall_s = time.perf_counter() - start
    stats = manager.writer_statistics
    file_path = os.path.join(work_dir, f"{cfg.dataset_filename}.hdf5")
    file_mb = os.path.getsize(file_path) / 1e6 if os.path.exists(file_path) else 0.0
    if not args.keep_files and os.path.exists(file_path):
        os.remove(file_path)

    result = {
        "payload": payload,
        "episode_length": length,
        "mode": mode,
        "repeat": repeat,
        "num_envs": num_envs,
        "episodes": len(holds),
        "export_calls": calls,
        "steps": env.step_count,
        "episode_mb": exported_bytes / 1e6 / max(len(holds), 1),
        "export_hold_mean_ms": statistics.fmean(holds) * 1e3 if holds else float("nan"),
        "export_hold_p95_ms": _percentile(holds, 95) * 1e3,
        "export_hold_max_ms": max(holds) * 1e3 if holds else float("nan"),
        "export_seconds": manager.export_seconds,
        "loop_wall_s": wall_s,
        "loop_s_before_close": loop_s,
        "drain_s": drain_s,
        "writer_throughput_mb_s": stats.write_throughput_mb_s,
        "write_seconds": stats.write_seconds,
        "blocked_seconds": stats.blocked_seconds,
        "peak_queue_depth": stats.peak_queue_depth,
        "peak_queue_mb": stats.peak_queue_bytes / 1e6,
        "episodes_written": stats.episodes_written,
        "mb_written": stats.bytes_written / 1e6,
        "file_mb": file_mb,
        "peak_rss_mb": rss.peak_bytes / 1e6,
        "rss_growth_mb": (rss.peak_bytes - rss.start_bytes) / 1e6,
        "peak_device_mb": None,
        "peak_device_growth_mb": None,
        "device_memory": DEVICE_MEMORY_NOT_MEASURED,
    }
    if cuda:
        peak = torch.cuda.max_memory_allocated()
        result["peak_device_mb"] = peak / 1e6
        result["peak_device_growth_mb"] = (peak - device_base) / 1e6
        result["device_memory"] = "torch.cuda.max_memory_allocated during the run (growth: above the memory at start)"
    del manager, env
    return result


"""
Summaries.
"""

_MEDIANS = (
    "episode_mb",
    "export_hold_mean_ms",
    "export_hold_p95_ms",
    "export_hold_max_ms",
    "export_seconds",
    "loop_s_before_close",
    "loop_wall_s",
    "drain_s",
    "writer_throughput_mb_s",
    "write_seconds",
    "blocked_seconds",
    "peak_queue_depth",
    "peak_queue_mb",
    "episodes_written",
    "file_mb",
    "peak_rss_mb",
    "rss_growth_mb",
    "peak_device_mb",
    "peak_device_growth_mb",
)
"""The per-run measurements summarized by their median over the repeat rounds."""

_RATIOS = (
    ("loop_ratio_to_no_export", "loop_s_before_close", "no_export"),
    ("wall_ratio_to_no_export", "loop_wall_s", "no_export"),
    ("wall_ratio_to_sync", "loop_wall_s", "sync"),
    ("hold_ratio_to_sync", "export_hold_mean_ms", "sync"),
)
"""The per-round ratios summarized by their spread: (name, measurement, reference mode)."""


def spread(values: list[float]) -> dict[str, Any]:
    """Minimum, median and maximum of the values, and the values (all None without values)."""
    if not values:
        return {"min": None, "median": None, "max": None, "values": []}
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "values": values}


def summarize(runs: list[dict], modes: list[str]) -> list[dict]:
    """One row per payload, episode length and mode: medians of the runs and spreads of the per-round ratios."""
    rows = []
    configs = list(dict.fromkeys((run["payload"], run["episode_length"]) for run in runs))
    for payload, length in configs:
        config_runs = [run for run in runs if run["payload"] == payload and run["episode_length"] == length]
        by_round: dict[int, dict[str, dict]] = {}
        for run in config_runs:
            by_round.setdefault(run["repeat"], {})[run["mode"]] = run
        for mode in modes:
            mode_runs = [run for run in config_runs if run["mode"] == mode]
            if not mode_runs:
                continue
            row: dict[str, Any] = {"payload": payload, "episode_length": length, "mode": mode}
            row["repeats"] = len(mode_runs)
            row["num_envs"] = mode_runs[0]["num_envs"]
            for key in _MEDIANS:
                values = [run[key] for run in mode_runs if run[key] is not None and math.isfinite(run[key])]
                row[key] = statistics.median(values) if values else None
            for name, key, reference in _RATIOS:
                ratios = [
                    round_runs[mode][key] / round_runs[reference][key]
                    for round_runs in by_round.values()
                    if mode in round_runs and reference in round_runs and round_runs[reference][key] > 0
                ]
                row[name] = spread(ratios)
            rows.append(row)
    return rows


"""
Reporting.
"""


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _fmt_spread(ratio: dict[str, Any], digits: int = 2) -> str:
    """A ratio spread as ``median [min-max]`` (n/a if missing)."""
    if ratio["median"] is None:
        return "n/a"
    return f"{ratio['median']:.{digits}f} [{ratio['min']:.{digits}f}-{ratio['max']:.{digits}f}]"


def markdown_table(rows: list[dict], cuda: bool) -> str:
    """The summary rows as a markdown table."""
    header = [
        "payload",
        "steps/ep",
        "MB/ep",
        "mode",
        "hold mean ms",
        "hold p95 ms",
        "hold / sync",
        "loop s",
        "loop / no_export",
        "loop + drain s",
        "loop + drain / no_export",
        "drain s",
        "writer MB/s",
        "peak queue",
        "blocked s",
        "peak RSS MB",
        "RSS growth MB",
        "peak device MB" if cuda else "device mem",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        device = _fmt(r["peak_device_mb"], 1) if cuda else "not measured (CPU)"
        row = [
            r["payload"],
            str(r["episode_length"]),
            _fmt(r["episode_mb"], 2),
            r["mode"],
            _fmt(r["export_hold_mean_ms"], 2),
            _fmt(r["export_hold_p95_ms"], 2),
            _fmt_spread(r["hold_ratio_to_sync"], 3),
            _fmt(r["loop_s_before_close"], 2),
            _fmt_spread(r["loop_ratio_to_no_export"]),
            _fmt(r["loop_wall_s"], 2),
            _fmt_spread(r["wall_ratio_to_no_export"]),
            _fmt(r["drain_s"], 2),
            _fmt(r["writer_throughput_mb_s"], 1),
            _fmt(r["peak_queue_depth"], 0),
            _fmt(r["blocked_seconds"], 2),
            _fmt(r["peak_rss_mb"], 0),
            _fmt(r["rss_growth_mb"], 0),
            device,
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def write_plot(path: str, rows: list[dict], payloads: list[str], title: str) -> None:
    """Two panels per payload: the export hold per episode against the episode length (log scale), and the per-round
    ratio of loop + drain to no_export (median, range) per mode and episode length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(dict.fromkeys(row["mode"] for row in rows))
    fig, axes = plt.subplots(2, len(payloads), figsize=(5.5 * len(payloads), 7.5), squeeze=False)
    for column, payload in enumerate(payloads):
        payload_rows = [row for row in rows if row["payload"] == payload]
        lengths = sorted({row["episode_length"] for row in payload_rows})
        hold_ax, ratio_ax = axes[0][column], axes[1][column]
        width = 0.8 / max(1, len(modes))
        for index, mode in enumerate(modes):
            mode_rows = {row["episode_length"]: row for row in payload_rows if row["mode"] == mode}
            holds = [mode_rows[length]["export_hold_mean_ms"] if length in mode_rows else None for length in lengths]
            hold_ax.plot(lengths, holds, marker="o", label=mode)
            ratios = [
                mode_rows[length]["wall_ratio_to_no_export"] if length in mode_rows else None for length in lengths
            ]
            medians = [ratio["median"] if ratio and ratio["median"] else 0.0 for ratio in ratios]
            low = [median - (ratio["min"] or median) if ratio else 0.0 for median, ratio in zip(medians, ratios)]
            high = [(ratio["max"] or median) - median if ratio else 0.0 for median, ratio in zip(medians, ratios)]
            positions = [position + (index - (len(modes) - 1) / 2) * width for position in range(len(lengths))]
            ratio_ax.bar(positions, medians, width=width, yerr=[low, high], capsize=2, label=mode)
        hold_ax.set_xscale("log", base=2)
        hold_ax.set_yscale("log")
        hold_ax.set_xticks(lengths, [str(length) for length in lengths])
        hold_ax.set_xlabel("steps per episode")
        hold_ax.set_ylabel("export_episodes hold per episode (ms)")
        hold_ax.set_title(f"{payload}: time export_episodes holds the loop", fontsize=10)
        hold_ax.legend(fontsize=8)
        ratio_ax.axhline(1.0, color="black", linewidth=0.8)
        ratio_ax.set_xticks(range(len(lengths)), [str(length) for length in lengths])
        ratio_ax.set_xlabel("steps per episode")
        ratio_ax.set_ylabel("loop + drain / no_export (median, range)")
        ratio_ax.set_title(f"{payload}: loop + drain relative to no export", fontsize=10)
        ratio_ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``--quick`` sets a seconds-long configuration)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_envs", type=int, default=8, help="Number of parallel envs.")
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[100, 200, 400, 800], help="Episode lengths (steps) to run."
    )
    parser.add_argument(
        "--payloads",
        nargs="+",
        choices=PAYLOADS,
        default=list(PAYLOADS),
        help="state: actions, observations and states only; cameras: plus two RGB cameras.",
    )
    parser.add_argument("--image_size", type=int, default=84, help="Camera width and height (pixels).")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="Export modes to compare.")
    parser.add_argument(
        "--repeats", type=int, default=None, help="Interleaved repeat rounds (medians and ranges; default: 3)."
    )
    parser.add_argument("--device", default="cpu", help="Device of the env buffers: cpu or cuda[:N].")
    parser.add_argument("--episodes_per_env", type=int, default=1, help="Episodes each env exports per run.")
    parser.add_argument(
        "--sim_step_ms",
        type=float,
        default=1.0,
        help="Simulated physics time per step (a sleep, as when waiting on a GPU simulator).",
    )
    parser.add_argument("--no_compression", action="store_true", help="Write without gzip.")
    parser.add_argument("--queue_size", type=int, default=16, help="async_queue_size (episodes).")
    parser.add_argument("--queue_max_mb", type=float, default=1024.0, help="async_queue_max_bytes, in MiB.")
    parser.add_argument("--output_dir", default="./benchmark_results", help="Where the JSON, markdown and chart go.")
    parser.add_argument("--keep_files", action="store_true", help="Keep the dataset files (in output_dir/datasets).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic data.")
    parser.add_argument(
        "--torch_threads",
        type=int,
        default=1,
        help="torch intra-op threads of the loop (1 keeps the writer thread from fighting OpenMP"
        " workers for the cores; 0 leaves torch's default).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="A seconds-long smoke run: 2 envs, lengths 16 and 32, 32x32 images, no simulated physics, 1 round.",
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.quick:
        args.num_envs, args.lengths, args.image_size, args.sim_step_ms = 2, [16, 32], 32, 0.0
    for name in ("num_envs", "image_size", "episodes_per_env", "queue_size", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if any(length < 1 for length in args.lengths):
        parser.error("--lengths must be positive")
    if args.sim_step_ms < 0 or args.queue_max_mb <= 0:
        parser.error("--sim_step_ms must be >= 0 and --queue_max_mb > 0")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but CUDA is not available")
    return args


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, if the OS says (other processes disturb the timings)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns the report."""
    args = parse_args(argv)
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    cuda = args.device.startswith("cuda")
    os.makedirs(args.output_dir, exist_ok=True)
    work_dir = (
        os.path.join(args.output_dir, "datasets") if args.keep_files else tempfile.mkdtemp(prefix="recorder_bench_")
    )
    os.makedirs(work_dir, exist_ok=True)
    runs = []
    load_start = _load_average()
    total_start = time.perf_counter()
    try:
        for repeat in range(args.repeats):
            shift = repeat % len(args.modes)
            modes = args.modes[shift:] + args.modes[:shift]
            for payload in args.payloads:
                for length in args.lengths:
                    for mode in modes:
                        result = run_config(payload, length, mode, args, work_dir, repeat)
                        runs.append(result)
                        print(
                            f"[recorder-bench] r{repeat + 1} {payload:8s} len={length:5d} {mode:14s} hold mean"
                            f" {result['export_hold_mean_ms']:8.2f} ms  loop {result['loop_s_before_close']:6.2f} s"
                            f"  + drain {result['loop_wall_s']:6.2f} s"
                            f"  writer {result['writer_throughput_mb_s']:7.1f} MB/s",
                            flush=True,
                        )
    finally:
        if not args.keep_files:
            shutil.rmtree(work_dir, ignore_errors=True)
    rows = summarize(runs, args.modes)

    meta = {
        "benchmark": "recorder_export",
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else list(argv),
        "args": vars(args),
        "device": args.device,
        "device_name": torch.cuda.get_device_name(args.device) if cuda else platform.processor() or "cpu",
        "device_memory": "torch.cuda.max_memory_allocated per run" if cuda else DEVICE_MEMORY_NOT_MEASURED,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_start": load_start,
        "load_average_end": _load_average(),
        "total_seconds": time.perf_counter() - total_start,
        "notes": (
            "Medians over the repeat rounds; ratios: median [min-max] of the per-round ratios. export hold = time"
            " export_episodes held the caller, divided by the episodes of that call; loop = the recording loop;"
            " loop + drain adds close() (the drain); writer MB/s = tensor MB written per second of writing"
            " (stacking, conversion, compression, HDF5, flush)."
        ),
    }
    report = {"meta": meta, "rows": rows, "runs": runs}
    table = markdown_table(rows, cuda)
    base = os.path.join(args.output_dir, "recorder_export")
    with open(f"{base}.json", "w") as file:
        json.dump(report, file, indent=2)
    with open(f"{base}.md", "w") as file:
        file.write(f"# Recorder export benchmark ({meta['timestamp']})\n\n")
        file.write(f"Command: `{' '.join([os.path.basename(__file__), *meta['argv']])}`  \n")
        file.write(
            f"Device: {args.device} ({meta['device_name']}), {meta['cpu_count']} CPUs, torch {meta['torch']},"
            f" {args.num_envs} envs, {args.repeats} interleaved repeat round(s); load average"
            f" {meta['load_average_start']} at start, {meta['load_average_end']} at end."
            f" Device memory: {meta['device_memory']}.\n\n"
        )
        file.write(table + "\n\n" + meta["notes"] + "\n")
    title = f"Recorder export: {args.num_envs} envs, {args.device}, {args.repeats} interleaved rounds"
    write_plot(f"{base}.png", rows, args.payloads, title)
    print()
    print(table)
    if not cuda:
        print(f"\nDevice memory: {DEVICE_MEMORY_NOT_MEASURED}.")
    print(
        f"\n[recorder-bench] {len(runs)} runs in {meta['total_seconds']:.1f} s; wrote {base}.json, {base}.md,"
        f" {base}.png"
    )
    return report


if __name__ == "__main__":
    main()
