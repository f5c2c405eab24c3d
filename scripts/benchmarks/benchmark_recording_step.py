# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark the recording step: ``RecorderManager.add_to_episodes`` per step, this project's recorder beside the
real Isaac Lab 3.0.0 recorder.

Each step records every key once for every environment (``env_ids`` None): 11 state keys of 7 floats, and in the
camera cases one 84x84 RGB (uint8) key more. Both recorders run the same code (this script, started as a worker),
with nothing but the public API they share: Isaac Lab 3.0.0's in the upstream check's cached environment (the
unpatched ``isaaclab==3.0.0`` wheel, built on first use by ``tests/upstream/upstream_env.py``), this project's in
the Python running this script. Nothing is exported (``EXPORT_NONE``); torch uses one thread.

Per case and device, a worker records two episodes and times, in each, ``--steps`` steps after ``--warmup``
untimed ones:

* first episode: the recorder's storage grows as the episode does (this project's page pools grow),
* steady: the second episode, after a reset (the pools have their size; what a long recording run does).

Every round runs each recorder once (one process each, measuring every case), the order rotated every round; the
tables give ms per step (median [min-max] over the rounds) and the per-round ratio this project / Isaac Lab 3.0.0.
On CUDA (``--devices cpu,cuda``, the default where torch sees a GPU) the timed region starts and ends with a
synchronization; Isaac Lab 3.0.0's environment has a CPU-only torch, so its CUDA cases are reported as skipped.

Results: ``<output_dir>/recording_step.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_recording_step.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recording_step.py --num_envs 16,4096 --repeats 7
    ./isaaclab.sh -p scripts/benchmarks/benchmark_recording_step.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import torch
from benchmark_utils.cli import Size, benchmark_parser, int_list, name_list, parse_args, positive_int
from benchmark_utils.machine import REPO_ROOT
from benchmark_utils.recorder import BenchRecorderCfg, EnvDouble, camera_frames
from benchmark_utils.report import Panel, fmt, markdown_table, start_report, write_results
from benchmark_utils.rounds import format_spread, ratio_spread, run_rounds, select, spread
from benchmark_utils.workers import run_script, run_worker

from isaaclab.managers import DatasetExportMode, RecorderManager

NAME = "recording_step"
"""Base name of the result files."""

OURS, UPSTREAM = "this_project", "isaaclab_3.0.0"
"""The recorders compared (the round's modes)."""

STATE_KEYS, STATE_WIDTH, CAMERA_SIZE = 11, 7, 84
"""Each step's keys: 11 state keys of 7 float32, and in the camera cases an 84x84 RGB key."""

TARGETS = {"16 envs": 1.0, "1024 envs": 0.1, "4096 envs": 0.1, "256 envs + camera": 0.3}
"""Most this project's steady ms per step may be, as a share of Isaac Lab 3.0.0's, per case (CPU)."""

SIZES = {
    "num_envs": Size(int_list, [16, 256, 1024, 4096], [16, 64], "Env counts of the state cases."),
    "camera_envs": Size(int_list, [256], [16], "Env counts of the camera cases."),
    "steps": Size(positive_int, 32, 4, "Timed steps per episode."),
    "warmup": Size(int, 8, 2, "Untimed steps before them in each episode."),
    "repeats": Size(positive_int, 5, 2, "Interleaved rounds."),
}
"""The size options."""


def parse_command_line(argv: Sequence[str] | None = None) -> Any:
    """Parse the command line (``--quick`` fills in the sizes not given)."""
    parser = benchmark_parser(__doc__, SIZES)
    devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    parser.add_argument("--devices", type=name_list(["cpu", "cuda"]), default=devices, help="cpu and/or cuda.")
    upstream = parser.add_mutually_exclusive_group()
    upstream.add_argument("--upstream_python", default=None, help="Python of an Isaac Lab 3.0.0 environment.")
    upstream.add_argument("--no_upstream", action="store_true", help="Measure this project's recorder only.")
    return parse_args(parser, argv, SIZES)


def locate_upstream(args: Any) -> tuple[str | None, str]:
    """The Python of Isaac Lab 3.0.0's environment, and where it came from (or why there is none).

    The environment is the upstream check's (``tests/upstream/upstream_env.py``): built on first use, except with
    ``--quick``, which only uses one built before.
    """
    if args.no_upstream:
        return None, "--no_upstream"
    if args.upstream_python:
        return args.upstream_python, "--upstream_python"
    sys.path[:0] = [str(REPO_ROOT / "tests" / "upstream")]
    from upstream_env import ensure_upstream_env
    from upstream_harness import load_patch_tool

    tool = load_patch_tool()
    env = ensure_upstream_env(None, tool.WHEEL_SHA256)
    if env is None and not args.quick:
        env = ensure_upstream_env(tool.ensure_wheel(), tool.WHEEL_SHA256)
    if env is None:
        return None, "its environment is not built (a run without --quick builds it, once: a few minutes)"
    return str(env.python), f"the upstream check's environment {env.root}"


def cases(args: Any) -> list[dict[str, Any]]:
    """The cases, by name: the state cases, then the camera cases."""
    state = [{"case": f"{count} envs", "num_envs": count, "camera": False} for count in args.num_envs]
    camera = [{"case": f"{count} envs + camera", "num_envs": count, "camera": True} for count in args.camera_envs]
    return state + camera


"""
The worker (runs with either recorder).
"""


def measure(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Time every case on every device with the recorder this Python imports."""
    import isaaclab

    torch.set_num_threads(1)
    results = []
    for device in task["devices"]:
        for case in task["cases"]:
            result = {**case, "device": device, "isaaclab": os.path.dirname(isaaclab.__file__)}
            if device == "cuda" and not torch.cuda.is_available():
                result["skipped"] = f"torch {torch.__version__} in {sys.prefix} has no CUDA"
            else:
                result.update(time_case(case, device, task["steps"], task["warmup"]))
            results.append(result)
    return results


def time_case(case: dict[str, Any], device: str, steps: int, warmup: int) -> dict[str, float]:
    """ms per step of the first episode and of the second (steady) one."""
    num_envs = case["num_envs"]
    env = EnvDouble(num_envs, device)
    manager = RecorderManager(BenchRecorderCfg(dataset_export_mode=DatasetExportMode.EXPORT_NONE), env)
    generator = torch.Generator().manual_seed(0)
    batch = {
        f"states/key_{key:02d}": torch.rand(num_envs, STATE_WIDTH, generator=generator) for key in range(STATE_KEYS)
    }
    if case["camera"]:
        batch["obs/camera"] = camera_frames(1, CAMERA_SIZE, generator).expand(num_envs, -1, -1, -1).contiguous()
    batch = {key: value.to(device) for key, value in batch.items()}
    timings = []
    for _ in ("first", "steady"):
        gc.collect()  # the garbage of what ran before is not this episode's cost
        for _ in range(warmup):
            _record(manager, batch)
        _synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            _record(manager, batch)
        _synchronize(device)
        timings.append((time.perf_counter() - start) / steps * 1e3)
        manager.reset()
    manager.close()
    return {"first_ms": timings[0], "steady_ms": timings[1]}


def _record(manager: RecorderManager, batch: dict[str, torch.Tensor]) -> None:
    """One step: every key once, for every environment."""
    for key, value in batch.items():
        manager.add_to_episodes(key, value)


def _synchronize(device: str) -> None:
    """Wait for the device's queued work (nothing to wait for on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


"""
Summary and main.
"""


def summarize(runs: list[dict[str, Any]], names: list[str], devices: list[str]) -> list[dict[str, Any]]:
    """One row per device and case: both recorders' ms per step and the per-round ratios, steady and first."""
    rows = []
    for device in devices:
        for name in names:
            row: dict[str, Any] = {"device": device, "case": name}
            for measure_key in ("steady_ms", "first_ms"):
                for mode in (UPSTREAM, OURS):
                    values = [run.get(measure_key) for run in select(runs, mode=mode, case=name, device=device)]
                    row[f"{mode}_{measure_key}"] = spread(values)
                row[f"ratio_{measure_key}"] = ratio_spread(
                    runs,
                    measure_key,
                    {"mode": OURS, "case": name, "device": device},
                    {"mode": UPSTREAM, "case": name, "device": device},
                )
            row["target"] = TARGETS.get(name) if device == "cpu" else None
            ratio = row["ratio_steady_ms"]["median"]
            row["met"] = None if row["target"] is None or ratio is None else ratio <= row["target"]
            rows.append(row)
    return rows


def tables(rows: list[dict[str, Any]]) -> list[str]:
    """The steady table (with the targets) and the first-episode table."""
    header = ["case", "device", "Isaac Lab 3.0.0 ms/step", "this project ms/step", "this project / 3.0.0"]
    verdicts = {True: "met", False: "MISSED", None: "-"}

    def cells(row: dict[str, Any], key: str) -> list[str]:
        return [
            row["case"],
            row["device"],
            format_spread(row[f"{UPSTREAM}_{key}"], 3, ""),
            format_spread(row[f"{OURS}_{key}"], 3, ""),
            format_spread(row[f"ratio_{key}"], 3),
        ]

    steady = [[*cells(row, "steady_ms"), fmt(row["target"], 1, "x"), verdicts[row["met"]]] for row in rows]
    return [
        "Steady (the second episode): ms per step, median [min-max] over the rounds; the ratio is taken per round.",
        markdown_table([*header, "target", "verdict"], steady, 2),
        "First episode (the recorder's storage grows with it):",
        markdown_table(header, [cells(row, "first_ms") for row in rows], 2),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse_command_line(argv)
    report = start_report(NAME, args, argv)
    pythons = {OURS: sys.executable}
    upstream, origin = locate_upstream(args)
    if upstream is None:
        print(f"[INFO] Isaac Lab 3.0.0's recorder is not measured: {origin}.", flush=True)
    else:
        pythons[UPSTREAM] = upstream
    task = {"cases": cases(args), "devices": args.devices, "steps": args.steps, "warmup": args.warmup}
    started = time.perf_counter()
    runs = run_rounds(
        list(pythons),
        args.repeats,
        lambda _, mode, __: run_worker(__file__, task, python=pythons[mode]),
        summary=lambda results: ", ".join(f"{r['case']} {r['device']} {r.get('steady_ms', 0):.2f} ms" for r in results),
    )
    names = [case["case"] for case in task["cases"]]
    rows = summarize(runs, names, args.devices)
    report.update(
        upstream={"python": upstream, "origin": origin}, seconds=time.perf_counter() - started, rows=rows, runs=runs
    )
    notes = [f"Isaac Lab 3.0.0: {upstream or 'not measured'} ({origin})."]
    skipped = {run["skipped"] for run in runs if "skipped" in run}
    notes += [f"Not measured: {reason}." for reason in sorted(skipped)]
    if "cuda" not in args.devices:
        notes.append("CUDA: not measured (torch sees no GPU here).")
    panels = [
        Panel(
            title,
            names,
            {mode: [row[f"{mode}_{key}"] for row in rows if row["device"] == "cpu"] for mode in pythons},
            "ms per step (log)",
            log=True,
        )
        for key, title in (("steady_ms", "steady (CPU)"), ("first_ms", "first episode (CPU)"))
    ]
    sizes = f"{args.steps} timed steps after {args.warmup} untimed, {args.repeats} interleaved rounds, torch 1 thread"
    write_results(args.output_dir, NAME, f"Recording step cost ({sizes})", report, [*tables(rows), *notes], panels)
    return 0


if __name__ == "__main__":
    run_script(main, measure)
