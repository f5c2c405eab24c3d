# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Benchmark Isaac Lab Mimic data generation with and without asynchronous dataset export.

Runs Mimic generation on the embedded cube-stacking task, with one seed, in the export modes of :data:`MODES`:

* ``no_export``: the recorder records every step but exports nothing (``EXPORT_NONE``): the baseline,
* ``sync``: episodes are written inside the simulation loop (the Isaac Lab default),
* ``async``: episodes are written by the recorder's background writer thread (``async_write``),
* ``async_offload``: ``async_write`` plus ``early_cpu_offload``,
* ``async_lerobot`` and ``async_lerobot_x264`` (only when named in ``--modes``): ``async_write`` into a LeRobot
  dataset (``dataset_format="lerobot"``, cameras encoded on the writer thread with SVT-AV1 or x264),

for a state-only workload (``Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0``) and a camera workload
(``Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0``, a table and a wrist RGB camera), and one or more numbers
of demos (``--generation_num_trials 10,20``). A mode is one entry of :data:`MODES`.

Every run is a process of its own (this script as a worker), so peak memory is per run. A round runs, for every
(workload, demos), every mode once, the modes in an order rotated every round; ratios are taken within a round (a
mode's time over ``no_export``'s or ``sync``'s) and reported as median [min-max]. Both workloads generate from the
same cached annotated source dataset (Mimic uses its poses, actions and subtask signals, not its images).

Measured per run (the tables give medians over the rounds):

* loop: the generation loop (``GenerationSummary.loop_seconds``); loop + drain: the loop, the final drain of the
  writer and the closing of the file (``wall_seconds``, the end-to-end time of the generation),
* time in export calls, time blocked on a full queue, the writer's MB/s and peak queue depth, and the bytes the
  camera images take on disk (the HDF5 image datasets as stored, or the LeRobot video files),
* peak RSS, and on CUDA the peak device memory allocated (on the CPU: not measured, and the output says so),
* where the loop thread's time went (``/proc/thread-self/schedstat``): running, ready without a free core, waiting
  (on the GIL, a lock, or the drain).

The HDF5 datasets of the exporting modes must be identical to the first ``sync`` run's (``diff_hdf5_files``): the
run exits with status 1 if they differ. With ``--profile`` each run's loop thread is profiled with cProfile (slower:
take timings from runs without it). Results: ``<output_dir>/benchmark_mimic_generation.{json,md,png}``.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py --workloads camera --generation_num_trials 10,20
    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py --workloads camera --modes sync,async --profile
    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import cProfile
import dataclasses
import io
import os
import pstats
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

import h5py
import torch
from benchmark_utils.cli import Size, benchmark_parser, int_list, name_list, parse_args, positive_int
from benchmark_utils.recorder import EXPORT_MODES
from benchmark_utils.report import Panel, fmt, markdown_table, start_report, write_results
from benchmark_utils.rounds import format_spread, median, ratio_spread, run_rounds, select
from benchmark_utils.workers import run_script, run_worker

NAME = "benchmark_mimic_generation"
"""Base name of the result files."""

RUNS_DIR_NAME = "benchmark_mimic_generation_runs"
"""Scratch folder under the output folder (datasets and profiles); replaced on every run."""

STATE_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
"""The state-only Mimic task (its annotated source dataset serves both workloads)."""

WORKLOADS = {"state": (STATE_TASK, False), "camera": ("Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0", True)}
"""The workloads, by name: the task and whether it renders cameras."""


@dataclasses.dataclass(frozen=True)
class Mode:
    """An export mode of the benchmark."""

    settings: dict[str, Any]
    """Keyword arguments of ``generate_dataset``."""
    by_default: bool = True
    """Whether it runs when ``--modes`` is not given."""
    compared: bool = True
    """Whether its dataset is an HDF5 file that must equal the ``sync`` run's."""


MODES: dict[str, Mode] = {name: Mode(settings, compared=name != "no_export") for name, settings in EXPORT_MODES.items()}
MODES["async_lerobot"] = Mode({"async_write": True, "dataset_format": "lerobot"}, by_default=False, compared=False)
MODES["async_lerobot_x264"] = Mode(
    {**MODES["async_lerobot"].settings, "video_codec": "libx264"}, by_default=False, compared=False
)
"""The export modes, by name (a new mode is one entry)."""

TARGETS = {"loop_to_no_export": 1.03, "wall_to_no_export": 1.06, "wall_to_sync": 0.92}
"""The asynchronous modes' targets, on medians of per-round ratios: loop at most 1.03x ``no_export``'s, loop +
drain at most 1.06x ``no_export``'s and at most 0.92x ``sync``'s."""

MEASURES = (
    "loop_seconds",
    "wall_seconds",
    "export_seconds",
    "blocked_seconds",
    "write_mb_s",
    "peak_queue_depth",
    "camera_bytes",
    "peak_rss_mb",
    "peak_cuda_mb",
    "thread_running_seconds",
    "thread_no_core_seconds",
    "thread_waiting_seconds",
    "demos_written",
)
"""The per-run measurements summarized by their median."""

SIZES = {
    "num_envs": Size(positive_int, 10, 2, "Parallel environments."),
    "generation_num_trials": Size(int_list, [10, 20], [2], "Demos per run, or several such numbers."),
    "camera_size": Size(positive_int, None, 32, "Camera images' width and height (None: the task's, 84)."),
    "source_num_demos": Size(positive_int, 10, 2, "Demos of the cached source dataset."),
    "repeats": Size(positive_int, 5, 1, "Interleaved rounds."),
}
"""The size options."""


def parse_command_line(argv: Sequence[str] | None = None) -> Any:
    """Parse the command line (``--quick`` fills in the sizes not given)."""
    parser = benchmark_parser(__doc__, SIZES)
    parser.add_argument("--workloads", type=name_list(WORKLOADS), default=list(WORKLOADS), help="state,camera")
    default_modes = [name for name, mode in MODES.items() if mode.by_default]
    parser.add_argument("--modes", type=name_list(MODES), default=default_modes, help=",".join(MODES))
    parser.add_argument("--device", default="cpu", help="Torch device: cpu, cuda or cuda:<index>.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of every generation run.")
    parser.add_argument("--torch_threads", type=int, default=0, help="torch threads (0: all cores but one).")
    parser.add_argument("--disable_dataset_compression", action="store_true", help="Write uncompressed datasets.")
    parser.add_argument("--input_file", default=None, help="Annotated source dataset (default: built and cached).")
    parser.add_argument("--keep_datasets", action="store_true", help="Keep the generated datasets.")
    parser.add_argument("--profile", action="store_true", help="Profile every run's loop thread with cProfile.")
    args = parse_args(parser, argv, SIZES)
    if args.input_file is not None and not os.path.isfile(args.input_file):
        parser.error(f"the input file '{args.input_file}' does not exist")
    return args


"""
One run (in a worker process).
"""


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one generation in this process and measure it."""
    import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)
    from isaaclab_mimic.datagen.dataset_generation import generate_dataset

    device = job["device"]
    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    if device == "cpu":
        torch.set_num_threads(job["torch_threads"] or max(1, (os.cpu_count() or 1) - 1))
    profiler = cProfile.Profile() if job["profile"] else None
    thread_start = _thread_times()
    if profiler is not None:
        profiler.enable()
    summary = generate_dataset(
        env_name=job["task"],
        input_file=job["input_file"],
        output_file=job["output_file"],
        num_envs=job["num_envs"],
        generation_num_trials=job["generation_num_trials"],
        device=device,
        seed=job["seed"],
        dataset_compression=job["dataset_compression"],
        show_progress=False,
        env_cfg_hook=_camera_size_hook(job["camera_size"]),
        **MODES[job["mode"]].settings,
    )
    if profiler is not None:
        profiler.disable()
        write_profile(profiler, job["profile_file"])
    thread = {key: value - thread_start[key] for key, value in _thread_times().items()}
    writer = summary.writer
    written = os.path.exists(summary.output_file)
    return {
        **job,
        "output_file": summary.output_file if MODES[job["mode"]].compared else None,
        "camera_bytes": camera_bytes(summary.output_file) if written else None,
        "loop_seconds": summary.loop_seconds,
        "wall_seconds": summary.wall_seconds,
        "export_seconds": summary.export_seconds,
        "blocked_seconds": writer["blocked_seconds"],
        "write_seconds": writer["write_seconds"],
        "write_mb_s": writer["bytes_written"] / 1e6 / writer["write_seconds"] if writer["write_seconds"] else None,
        "peak_queue_depth": writer["peak_queue_depth"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,  # KiB on Linux
        "peak_cuda_mb": torch.cuda.max_memory_allocated(device) / 2**20 if cuda else None,
        **thread,
        "demos_written": writer["episodes_written"],
        "num_success": summary.num_success,
        "num_attempts": summary.num_attempts,
        "writer": writer,
    }


def _camera_size_hook(size: int | None) -> Any:
    """An env config hook that makes every camera render ``size`` x ``size`` images (None: the task's size)."""
    if size is None:
        return None

    def hook(env_cfg: Any) -> None:
        for camera in env_cfg.scene.cameras.values():
            camera.width = camera.height = size

    return hook


def _thread_times() -> dict[str, float]:
    """Where this thread's time went so far, in seconds: running on a core, ready but without one (Linux), and the
    rest, waiting (on the GIL, a lock, or I/O). Differences of two calls give the times of what ran between them."""
    wall, running = time.perf_counter(), time.thread_time()
    try:
        with open("/proc/thread-self/schedstat") as file:
            no_core = int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return {"thread_running_seconds": running}
    waiting = wall - running - no_core
    return {"thread_running_seconds": running, "thread_no_core_seconds": no_core, "thread_waiting_seconds": waiting}


def camera_bytes(path: str) -> int:
    """Bytes the camera images take on disk: the uint8 ``(T, H, W, 3)`` datasets of an HDF5 file as stored, or the
    video files of a LeRobot dataset folder."""
    if os.path.isdir(path):
        videos = os.path.join(path, "videos")
        return sum(
            os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(videos) for name in names
        )
    sizes = []

    def visit(_: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset) and item.dtype == "uint8" and item.ndim == 4 and item.shape[-1] == 3:
            sizes.append(item.id.get_storage_size())

    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return sum(sizes)


def write_profile(profiler: cProfile.Profile, path: str, top: int = 30) -> None:
    """Save a run's profile (``.prof``) and beside it a text summary: the top functions by own and cumulative time."""
    profiler.dump_stats(path)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    for order in ("tottime", "cumulative"):
        text.write(f"Loop thread: top functions by {order}\n")
        stats.sort_stats(order).print_stats(top)
    with open(path.replace(".prof", ".txt"), "w") as file:
        file.write(text.getvalue())


"""
Checks and summary.
"""


def check_identical(runs: list[dict[str, Any]], groups: list[str]) -> dict[str, dict[str, Any]]:
    """Compare every compared mode's dataset of a (workload, demos) group with the group's first ``sync`` run's.

    Returns:
        Per group (``<workload>/<demos>``): ``identical`` (None without two datasets to compare), the reference run,
        the compared runs and the differences of those that differ.
    """
    from isaaclab.utils.datasets.dataset_diff import diff_hdf5_files

    checks = {}
    for group in groups:
        written = [run for run in select(runs, group=group) if run["output_file"]]
        reference = next((run for run in written if run["mode"] == "sync"), None)
        others = [run for run in written if run is not reference]
        if reference is None or not others:
            checks[group] = {"identical": None, "reference": None, "compared": [], "diffs": {}}
            continue
        diffs = {run["name"]: diff_hdf5_files(reference["output_file"], run["output_file"]) for run in others}
        checks[group] = {
            "identical": not any(diffs.values()),
            "reference": reference["name"],
            "compared": sorted(diffs),
            "diffs": {name: lines for name, lines in diffs.items() if lines},
        }
    return checks


def summarize(runs: list[dict[str, Any]], groups: list[str], modes: list[str]) -> list[dict[str, Any]]:
    """One row per group and mode: medians of the measurements, per-round ratios to ``no_export`` and ``sync``, and
    for the asynchronous modes (those named ``async...``) whether they meet the targets."""
    rows = []
    for group in groups:
        for mode in modes:
            mine = select(runs, mode=mode, group=group)
            workload, demos = group.split("/")
            row = {"group": group, "workload": workload, "demos": int(demos), "mode": mode}
            row.update({key: median([run.get(key) for run in mine]) for key in MEASURES})
            row["rounds"] = len(mine)
            for target in TARGETS:
                measure, reference = target.split("_to_")
                key = f"{measure}_seconds"
                row[target] = ratio_spread(
                    runs, key, {"mode": mode, "group": group}, {"mode": reference, "group": group}
                )
            row["targets"] = {
                target: row[target]["median"] <= limit
                for target, limit in TARGETS.items()
                if mode.startswith("async") and row[target]["median"] is not None
            }
            rows.append(row)
    return rows


"""
Main.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (1 if the exported datasets differ)."""
    args = parse_command_line(argv)
    report = start_report(NAME, args, argv, args.device)
    runs_dir = os.path.join(os.path.abspath(args.output_dir), RUNS_DIR_NAME)
    shutil.rmtree(runs_dir, ignore_errors=True)
    for folder in ("datasets", "profiles"):
        os.makedirs(os.path.join(runs_dir, folder))
    if args.input_file is None:
        from isaaclab_mimic.tools.source_dataset import ensure_source_dataset

        args.input_file = ensure_source_dataset(STATE_TASK, device=args.device, num_demos=args.source_num_demos)
    groups = [f"{workload}/{trials}" for workload in args.workloads for trials in args.generation_num_trials]

    def run(group: str, mode: str, round_index: int) -> dict[str, Any]:
        workload, trials = group.split("/")
        name = f"{workload}-{trials}demos-{mode}-r{round_index}"
        task, cameras = WORKLOADS[workload]
        job = {"name": name, "group": group, "workload": workload, "mode": mode, "task": task}
        job.update(generation_num_trials=int(trials))
        job.update(output_file=os.path.join(runs_dir, "datasets", f"{name}.hdf5"), input_file=args.input_file)
        job.update(profile_file=os.path.join(runs_dir, "profiles", f"{name}.prof"))
        job.update(camera_size=args.camera_size if cameras else None, num_envs=args.num_envs, device=args.device)
        job.update(seed=args.seed, torch_threads=args.torch_threads, profile=args.profile)
        job.update(dataset_compression=not args.disable_dataset_compression)
        return run_worker(os.path.abspath(__file__), job)

    runs = run_rounds(
        args.modes,
        args.repeats,
        run,
        groups=groups,
        summary=lambda results: f"{results[0]['wall_seconds']:.1f} s, {results[0]['demos_written']} written",
    )
    identical = check_identical(runs, groups)
    rows = summarize(runs, groups, args.modes)
    report.update(source_dataset=args.input_file, rows=rows, identical=identical, runs=runs)
    write_results(
        args.output_dir, NAME, "Mimic generation benchmark", report, sections(args, rows, identical), panels(rows)
    )
    if torch.device(args.device).type != "cuda":
        print("[INFO] Peak CUDA memory could not be measured: the device is the CPU (recorded as null).")
    differing = {group: check["diffs"] for group, check in identical.items() if check["diffs"]}
    for group, diffs in differing.items():
        for name, lines in diffs.items():
            print(f"[ERROR] {group}: {name} differs from {identical[group]['reference']}:", *lines[:20], sep="\n  ")
    if differing:
        print(f"[ERROR] The exported datasets differ; they are kept in {runs_dir}/datasets.", file=sys.stderr)
        return 1
    if not args.keep_datasets:
        shutil.rmtree(os.path.join(runs_dir, "datasets"), ignore_errors=True)
    return 0


def sections(args: Any, rows: list[dict[str, Any]], identical: dict[str, dict[str, Any]]) -> list[str]:
    """The markdown report: settings, the table, the targets, the dataset checks."""
    camera = f"{args.camera_size}x{args.camera_size}" if args.camera_size else "the task's (84x84)"
    header = ["workload", "demos", "mode", "loop s", "loop / no_export", "loop + drain s", "loop + drain / no_export"]
    header += ["loop + drain / sync", "in export calls s", "loop thread running s", "no free core s", "waiting s"]
    header += ["blocked s", "writer MB/s", "peak queue", "camera MB on disk", "peak RSS MB", "peak CUDA MB"]
    header += ["demos written"]
    table = [
        [
            row["workload"],
            row["demos"],
            row["mode"],
            fmt(row["loop_seconds"]),
            format_spread(row["loop_to_no_export"], 3),
            fmt(row["wall_seconds"]),
            format_spread(row["wall_to_no_export"], 3),
            format_spread(row["wall_to_sync"], 3),
            fmt(row["export_seconds"], 3),
            *(fmt(row[f"thread_{key}_seconds"]) for key in ("running", "no_core", "waiting")),
            fmt(row["blocked_seconds"], 3),
            fmt(row["write_mb_s"], 1),
            fmt(row["peak_queue_depth"], 0),
            fmt(None if row["camera_bytes"] is None else row["camera_bytes"] / 1e6),
            fmt(row["peak_rss_mb"], 0),
            fmt(row["peak_cuda_mb"], 0),
            fmt(row["demos_written"], 0),
        ]
        for row in rows
    ]
    targets = []
    for row in rows:
        for target, met in row["targets"].items():
            ratio, limit = row[target], TARGETS[target]
            verdict = "met" if met else f"MISSED by {ratio['median'] / limit - 1:.1%}"
            measure = target.replace("_to_", " / ").replace("wall", "loop + drain")
            targets.append(
                f"- {row['group']} {row['mode']}: {measure} {format_spread(ratio, 3)} (<= {limit:.2f}x): {verdict}"
            )
    checks = [
        f"- {group} demos: exported datasets"
        f" {({True: 'identical', False: 'DIFFERENT', None: 'not compared'})[check['identical']]}"
        f" ({len(check['compared'])} run(s) compared with {check['reference']})"
        for group, check in identical.items()
    ]
    if torch.device(args.device).type != "cuda":
        checks.append("- Peak CUDA memory: not measured (the device is the CPU).")
    settings = (
        f"{args.num_envs} envs, seed {args.seed}, device {args.device}, {args.repeats} interleaved round(s), camera"
        f" images {camera}, torch threads {args.torch_threads or 'all cores but one'}, compression"
        f" {'off' if args.disable_dataset_compression else 'on'}{', profiled' if args.profile else ''}. Times: medians"
        " over the rounds; ratios: median [min-max] of the per-round ratios. Loop + drain: the loop, the writer's"
        " final drain and the file's closing. Loop thread: running on a core, ready without a free core, waiting"
        " (GIL, locks, the drain)."
    )
    return [
        settings,
        markdown_table(header, table, 3),
        "Targets of the asynchronous modes:",
        "\n".join(targets),
        "\n".join(checks),
    ]


def panels(rows: list[dict[str, Any]]) -> list[Panel]:
    """Per (workload, demos): loop and loop + drain over ``no_export``, per mode, with the targets."""
    charts = []
    for group in dict.fromkeys(row["group"] for row in rows):
        shown = [row for row in rows if row["group"] == group and row["mode"] != "no_export"]
        series = {
            label: [row[key] for row in shown]
            for key, label in (("loop_to_no_export", "loop"), ("wall_to_no_export", "loop + drain"))
        }
        lines = {f"target {TARGETS[key]:.2f}x": TARGETS[key] for key in ("loop_to_no_export", "wall_to_no_export")}
        charts.append(Panel(f"{group} demos", [row["mode"] for row in shown], series, "time / no_export", lines=lines))
    return charts


if __name__ == "__main__":
    run_script(main, run_job)
