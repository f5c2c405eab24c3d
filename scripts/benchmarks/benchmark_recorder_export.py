# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark what exporting costs the caller: no export, sync, async and async with early CPU offload.

A recorder-level benchmark without simulator or Mimic: the env double of :mod:`benchmark_utils.recorder` fills its
buffers every step (actions, observations and states; the ``cameras`` payload adds two RGB cameras), the recorder
records them through recorder terms, and each env exports its episode when it ends. Episode ends are staggered over
the envs, as in a parallel run, so most ``export_episodes`` calls export one episode. A simulated physics step
(``--sim_step_ms``, a sleep, as when the CPU waits on a GPU simulator) runs between the pre- and post-step records.

Per payload, episode length and mode (the export modes of :data:`EXPORT_MODES`):

* how long ``export_episodes`` holds the caller per episode (mean and p95), and its per-round ratio to sync's,
* the loop's time, and loop + drain (``close()``), with their per-round ratios to ``no_export`` and ``sync``,
* the writer's MB/s, peak queue depth and time blocked on a full queue, and the peak RSS,
* with ``--device cuda``: the peak device memory (on the CPU it is not measured, and the results say so).

Every round runs every mode once per (payload, length), in an order rotated every round.
Results: ``<output_dir>/recorder_export.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_export.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_export.py --device cuda --image_size 128 --num_envs 16
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recorder_export.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from benchmark_utils.cli import Size, benchmark_parser, int_list, name_list, parse_args, positive_int
from benchmark_utils.recorder import EXPORT_MODES, BenchRecorderCfg, EnvDouble
from benchmark_utils.report import Panel, fmt, markdown_table, start_report, write_results
from benchmark_utils.rounds import format_spread, median, ratio_spread, run_rounds, select
from benchmark_utils.rss import RssSampler

from isaaclab.managers import RecorderManager

NAME = "recorder_export"
"""Base name of the result files."""

PAYLOADS = {"state": 0, "cameras": 2}
"""The payloads, by name: how many RGB cameras the env double has."""

MEASURES = ("hold_mean_ms", "hold_p95_ms", "loop_seconds", "wall_seconds", "drain_seconds", "write_mb_s")
MEASURES += ("peak_queue_depth", "blocked_seconds", "peak_rss_mb", "peak_device_mb")
"""The per-run measurements summarized by their median."""

RATIOS = {
    "hold_to_sync": ("hold_mean_ms", "sync"),
    "loop_to_no_export": ("loop_seconds", "no_export"),
    "wall_to_no_export": ("wall_seconds", "no_export"),
    "wall_to_sync": ("wall_seconds", "sync"),
}
"""The per-round ratios: name -> (measurement, reference mode)."""

SIZES = {
    "num_envs": Size(positive_int, 8, 2, "Parallel envs."),
    "lengths": Size(int_list, [100, 200, 400, 800], [16, 32], "Episode lengths in steps."),
    "image_size": Size(positive_int, 84, 32, "Camera width and height."),
    "sim_step_ms": Size(float, 1.0, 0.0, "Simulated physics time per step (a sleep)."),
    "repeats": Size(positive_int, 5, 1, "Interleaved rounds."),
}
"""The size options."""


def parse_command_line(argv: Sequence[str] | None = None) -> Any:
    """Parse the command line (``--quick`` fills in the sizes not given)."""
    parser = benchmark_parser(__doc__, SIZES)
    parser.add_argument("--payloads", type=name_list(PAYLOADS), default=list(PAYLOADS), help="state,cameras")
    parser.add_argument("--modes", type=name_list(EXPORT_MODES), default=list(EXPORT_MODES), help="Export modes.")
    parser.add_argument("--device", default="cpu", help="Device of the env buffers: cpu or cuda[:N].")
    parser.add_argument("--episodes_per_env", type=positive_int, default=1, help="Episodes each env exports.")
    parser.add_argument("--no_compression", action="store_true", help="Write without gzip.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic data.")
    args = parse_args(parser, argv, SIZES)
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but CUDA is not available")
    return args


def run_config(args: Any, payload: str, length: int, mode: str, work_dir: str, round_index: int) -> dict[str, Any]:
    """Record and export ``--episodes_per_env`` episodes of ``length`` steps in every env; returns the measurements."""
    cuda = torch.device(args.device).type == "cuda"
    num_envs = args.num_envs
    env = EnvDouble(num_envs, args.device, args.image_size, PAYLOADS[payload], args.seed)
    cfg = BenchRecorderCfg(
        dataset_export_dir_path=work_dir,
        dataset_filename=f"{payload}_{length}_{mode}_r{round_index}",
        dataset_compression=not args.no_compression,
        export_in_record_pre_reset=False,
        **EXPORT_MODES[mode],
    )
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    # env e ends its episodes at the steps where (step + offset_e) % length == 0
    offsets = [env_id * length // num_envs for env_id in range(num_envs)]
    recorded, exported, holds = [0] * num_envs, [0] * num_envs, []
    gc.collect()
    with RssSampler() as rss:
        manager = RecorderManager(cfg, env)
        start = time.perf_counter()
        while min(exported) < args.episodes_per_env:
            manager.record_pre_step()
            time.sleep(args.sim_step_ms / 1000)
            env.step()
            manager.record_post_step()
            recorded = [count + 1 for count in recorded]
            ending = [e for e in range(num_envs) if (env.step_count + offsets[e]) % length == 0]
            # an env's first, partial episode (before its offset) and episodes past the target are dropped
            to_export = [e for e in ending if recorded[e] == length and exported[e] < args.episodes_per_env]
            if to_export:
                manager.set_success_to_episodes(to_export, torch.ones(len(to_export), dtype=torch.bool))
                call_start = time.perf_counter()
                manager.export_episodes(to_export)
                holds += [(time.perf_counter() - call_start) / len(to_export)] * len(to_export)
                for e in to_export:
                    exported[e] += 1
            if len(to_export) < len(ending):
                manager.reset([e for e in ending if e not in to_export])
            for e in ending:
                recorded[e] = 0
        loop_seconds = time.perf_counter() - start
        if cuda:
            torch.cuda.synchronize()
        manager.close()
        wall_seconds = time.perf_counter() - start
    stats = manager.writer_statistics
    return {
        "payload": payload,
        "length": length,
        "episodes": len(holds),
        "episode_mb": length * env.step_bytes() / num_envs / 1e6,
        "hold_mean_ms": statistics.fmean(holds) * 1e3,
        "hold_p95_ms": float(np.percentile(holds, 95)) * 1e3,
        "loop_seconds": loop_seconds,
        "wall_seconds": wall_seconds,
        "drain_seconds": wall_seconds - loop_seconds,
        "episodes_written": stats.episodes_written,
        "write_mb_s": stats.bytes_written / 1e6 / stats.write_seconds if stats.write_seconds else None,
        "peak_queue_depth": stats.peak_queue_depth,
        "blocked_seconds": stats.blocked_seconds,
        "peak_rss_mb": rss.peak_bytes / 2**20,
        "peak_device_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
    }


def summarize(runs: list[dict[str, Any]], modes: list[str]) -> list[dict[str, Any]]:
    """One row per payload, length and mode: medians of the runs and spreads of the per-round ratios."""
    rows = []
    for payload, length in dict.fromkeys((run["payload"], run["length"]) for run in runs):
        where = {"payload": payload, "length": length}
        for mode in modes:
            mine = select(runs, mode=mode, **where)
            row = {**where, "mode": mode, "episode_mb": mine[0]["episode_mb"], "rounds": len(mine)}
            row.update({key: median([run[key] for run in mine]) for key in MEASURES})
            for name, (key, reference) in RATIOS.items():
                row[name] = ratio_spread(runs, key, {"mode": mode, **where}, {"mode": reference, **where})
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse_command_line(argv)
    cuda = torch.device(args.device).type == "cuda"
    if args.device == "cpu":
        torch.set_num_threads(1)  # the writer thread keeps a core; OpenMP workers would fight it for it
    report = start_report(NAME, args, argv, args.device)
    groups = [(payload, length) for payload in args.payloads for length in args.lengths]
    with tempfile.TemporaryDirectory(prefix="recorder_export_") as work_dir:
        runs = run_rounds(
            args.modes,
            args.repeats,
            lambda group, mode, index: run_config(args, *group, mode, work_dir, index),
            groups=groups,
            summary=lambda results: (
                f"hold {results[0]['hold_mean_ms']:.2f} ms, loop + drain {results[0]['wall_seconds']:.2f} s"
            ),
        )
    rows = summarize(runs, args.modes)
    report.update(device_memory="measured" if cuda else "not measured (CPU)", rows=rows, runs=runs)
    header = ["payload", "steps", "MB/episode", "mode", "hold ms", "hold p95 ms", "hold / sync", "loop s"]
    header += ["loop / no_export", "loop + drain / no_export", "loop + drain / sync", "writer MB/s", "peak queue"]
    header += ["blocked s", "peak RSS MB", "peak device MB"]
    table = [
        [row["payload"], row["length"], fmt(row["episode_mb"]), row["mode"], fmt(row["hold_mean_ms"])]
        + [fmt(row["hold_p95_ms"]), format_spread(row["hold_to_sync"], 3), fmt(row["loop_seconds"])]
        + [format_spread(row[key]) for key in ("loop_to_no_export", "wall_to_no_export", "wall_to_sync")]
        + [fmt(row["write_mb_s"], 1), fmt(row["peak_queue_depth"], 0), fmt(row["blocked_seconds"])]
        + [fmt(row["peak_rss_mb"], 0), fmt(row["peak_device_mb"], 1) if cuda else "not measured (CPU)"]
        for row in rows
    ]
    sections = [
        f"{args.num_envs} envs, a {args.sim_step_ms} ms simulated physics step, {args.repeats} interleaved round(s):"
        " medians; ratios: median [min-max] of the per-round ratios. hold: the time export_episodes held the caller,"
        " per episode of the call; loop + drain adds close().",
        markdown_table(header, table, 4),
    ]
    panels = [
        Panel(
            f"{payload}: export_episodes hold per episode",
            [str(length) for length in args.lengths],
            {
                mode: [
                    select(rows, payload=payload, length=length, mode=mode)[0]["hold_mean_ms"]
                    for length in args.lengths
                ]
                for mode in args.modes
            },
            "ms (log)",
            log=True,
        )
        for payload in args.payloads
    ]
    write_results(args.output_dir, NAME, f"Recorder export ({args.device})", report, sections, panels)
    if not cuda:
        print("[INFO] Device memory could not be measured: the benchmark ran on the CPU (--device cuda on a GPU).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
