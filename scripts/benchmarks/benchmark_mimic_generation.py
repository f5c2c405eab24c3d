"""Benchmark Isaac Lab Mimic data generation with and without asynchronous dataset export.

Runs Mimic generation on the embedded cube-stacking task, with one seed, in four export modes:

* ``no_export``: nothing is exported (``EXPORT_NONE``; the recorder still records every step): the baseline,
* ``sync``: episodes are written inside the simulation loop (the Isaac Lab default),
* ``async``: episodes are written by the recorder's background writer thread (``async_write``),
* ``async_offload``: ``async_write`` plus ``early_cpu_offload``,
* ``async_lerobot`` and ``async_lerobot_x264`` (only when named in ``--modes``): ``async_write`` into a LeRobot
  dataset (``dataset_format="lerobot"``, cameras encoded on the writer thread with SVT-AV1 or x264),

for a state-only workload (``Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0``) and a camera workload
(``Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0``, a table and a wrist RGB camera).

for one or more numbers of demos (``--generation_num_trials 10,20``).

Each (workload, demos, mode, repeat) runs in its own process, so peak memory is measured per run; the processes are
forked from a fork server that imported torch and the generation stack once, so a run does not pay that import
again. Repeats are interleaved: a repeat round runs every mode of a (workload, demos) once, one after the other,
with the mode order rotated by one on every round, to spread machine noise. Ratios are taken within a round (a
mode's time over ``no_export``'s, or ``sync``'s, in the same round), and the table shows the minimum, median and
maximum of the per-round ratios. Both workloads generate from the same cached annotated source dataset (Mimic uses
its poses, actions and subtask signals, not its images), built once before any timing.

Measured per run (the table shows the median over the repeats, and the spread of the per-round ratios):

* loop time: the generation loop alone (``GenerationSummary.loop_seconds``), and loop + drain: the loop plus the
  final drain of the writer and the closing of the file (``GenerationSummary.wall_seconds``, the end-to-end time
  of the generation), each with its ratio to ``no_export``; for the exporting modes also the ratio of loop + drain
  to ``sync``'s,
* time in export calls: the writer's ``export_seconds`` (whole ``export_episodes`` calls; in ``sync`` mode the
  writing itself), time blocked on a
  full queue, the writer's throughput (tensor bytes written per second of writing) and its peak queue depth,
* peak RSS of the run's process, and on CUDA the peak device memory allocated (null on the CPU),
* in the JSON only: the process's CPU time and where the main thread's time went (running, runnable but without a
  core, waiting on a lock such as the GIL or on the final drain), from ``/proc/thread-self/schedstat`` on Linux.

torch's intra-op threads are those ``generate_dataset`` picks (every core but one, left to the writer) unless
``--torch_threads`` says otherwise: with one thread per core, on a small machine the OpenMP pool competes with the
writer thread and other processes and timings become erratic.

The datasets written by the exporting modes must be identical (checked with ``diff_hdf5_files``); the run fails
with exit status 1 if they differ. Results go to ``<output_dir>/benchmark_mimic_generation.{json,md,png}``.

With ``--profile`` every run is profiled with cProfile on the loop's thread (the main thread); the profiles and
their summaries (where the loop's time goes, by own time and by cumulative time) go to
``<output_dir>/benchmark_mimic_generation_runs/profiles/``. Profiling slows the loop: take timings from runs without
it.

Examples::

    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py
    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py --workloads camera --generation_num_trials 10,20
    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py --workloads camera --modes sync,async \
        --repeats 1 --profile
    ./isaaclab.sh -p scripts/benchmarks/benchmark_mimic_generation.py --quick --output_dir /tmp/bench
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime
import io
import json
import multiprocessing
import os
import platform
import pstats
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import h5py
import torch

from isaaclab.managers import DatasetExportMode
from isaaclab.utils.datasets.dataset_diff import diff_hdf5_files

from isaaclab_mimic.datagen.dataset_generation import generate_dataset
from isaaclab_mimic.tools.source_dataset import DEFAULT_NUM_SOURCE_DEMOS, ensure_source_dataset

STATE_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
"""The state-only Mimic task (its annotated source dataset is used by both workloads)."""

CAMERA_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0"
"""The Mimic task with a table and a wrist camera."""

RESULT_NAME = "benchmark_mimic_generation"
"""Base name of the result files."""

RUNS_DIR_NAME = "benchmark_mimic_generation_runs"
"""Scratch folder under the output folder (datasets, per-run logs and results); replaced on every run."""

FORKSERVER_PRELOAD = (
    "torch",
    "h5py",
    "gymnasium",
    "isaaclab.utils.datasets",
    "isaaclab_mimic.datagen.dataset_generation",
    "isaaclab_tasks.utils.parse_cfg",
)
"""Modules the fork server imports once, so that the runs forked from it start without importing them (naming
``__main__`` instead does not preload anything on CPython 3.11-3.13: the fork server is never given the
script's path)."""

BASELINE_MODE = "no_export"
"""The mode the loop and wall times are compared with."""

TARGETS = {"loop_vs_no_export": 1.05, "wall_vs_no_export": 1.10, "wall_vs_sync": 0.92}
"""The targets of the asynchronous modes (medians of the per-round ratios): loop at most 1.05x ``no_export``'s, loop +
drain at most 1.10x ``no_export``'s, loop + drain at most 0.92x ``sync``'s."""

REFERENCE_MODE = "sync"
"""The mode whose dataset the other exporting modes must reproduce."""


@dataclasses.dataclass(frozen=True)
class Workload:
    """A task to generate demos for."""

    name: str
    task: str
    enable_cameras: bool


WORKLOADS: dict[str, Workload] = {
    "state": Workload("state", STATE_TASK, enable_cameras=False),
    "camera": Workload("camera", CAMERA_TASK, enable_cameras=True),
}
"""The workloads, by name."""

MODES: dict[str, dict[str, Any]] = {
    "no_export": {"dataset_export_mode": DatasetExportMode.EXPORT_NONE},
    "sync": {},
    "async": {"async_write": True},
    "async_offload": {"async_write": True, "early_cpu_offload": True},
    "async_lerobot": {"async_write": True, "dataset_format": "lerobot"},
    "async_lerobot_x264": {"async_write": True, "dataset_format": "lerobot", "video_codec": "libx264"},
}
"""The export modes, by name, as keyword arguments of :func:`generate_dataset`."""

DEFAULTS: dict[str, Any] = {
    "num_envs": 10,
    "generation_num_trials": [10, 20],
    "camera_size": None,
    "source_num_demos": DEFAULT_NUM_SOURCE_DEMOS,
}
"""Defaults of the size arguments."""

QUICK: dict[str, Any] = {
    "num_envs": 2,
    "generation_num_trials": [2],
    "camera_size": 32,
    "source_num_demos": 2,
    "repeats": 1,
}
"""Size arguments of ``--quick`` (a tiny run for CI); explicit arguments still win."""


@dataclasses.dataclass(frozen=True)
class Job:
    """One generation run: a workload in one export mode, in one repeat."""

    workload: str
    mode: str
    repeat: int
    task: str
    enable_cameras: bool
    camera_size: int | None
    input_file: str
    runs_dir: str
    num_envs: int
    generation_num_trials: int
    device: str
    seed: int
    torch_threads: int
    dataset_compression: bool
    profile: bool = False

    @property
    def name(self) -> str:
        """A file-name friendly name of the run."""
        return f"{self.workload}-{self.generation_num_trials}demos-{self.mode}-r{self.repeat}"

    @property
    def group(self) -> str:
        """The (workload, demos) the run belongs to: ratios and dataset checks are taken within a group."""
        return f"{self.workload}/{self.generation_num_trials}"

    @property
    def output_file(self) -> str:
        """The dataset the run generates."""
        return os.path.join(self.runs_dir, "datasets", f"{self.name}.hdf5")

    @property
    def log_file(self) -> str:
        """Where the run's output goes."""
        return os.path.join(self.runs_dir, "logs", f"{self.name}.log")

    @property
    def result_file(self) -> str:
        """Where the run's measurements go (JSON)."""
        return os.path.join(self.runs_dir, "logs", f"{self.name}.json")

    @property
    def profile_file(self) -> str:
        """Where the run's cProfile statistics go (with ``--profile``)."""
        return os.path.join(self.runs_dir, "profiles", f"{self.name}.prof")


"""
Command line.
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and resolve the command line (``--quick`` fills in the size arguments not given explicitly)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_envs", type=_positive_int, default=None, help="Parallel environments (default: 10).")
    parser.add_argument(
        "--generation_num_trials",
        type=_positive_ints,
        default=None,
        help="Demos to generate per run, or a comma-separated list of such numbers (default: 10,20).",
    )
    parser.add_argument("--workloads", type=_names(WORKLOADS), default=list(WORKLOADS), help="state,camera")
    parser.add_argument(
        "--modes", type=_names(MODES), default=[mode for mode in MODES if "lerobot" not in mode], help=",".join(MODES)
    )
    parser.add_argument(
        "--repeats", type=_positive_int, default=None, help="Interleaved repeat rounds (default: 5; --quick: 1)."
    )
    parser.add_argument("--device", default="cpu", help="Torch device: cpu, cuda or cuda:<index>.")
    parser.add_argument("--output_dir", default="./benchmark_results", help="Folder of the result files.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of every generation run.")
    parser.add_argument(
        "--camera_size",
        type=_positive_int,
        default=None,
        help="Width and height of the camera images in pixels (default: the task's, 84).",
    )
    parser.add_argument(
        "--torch_threads",
        type=int,
        default=0,
        help="torch intra-op threads in each run; 0 (default) uses generate_dataset's choice: every core but one.",
    )
    parser.add_argument("--disable_dataset_compression", action="store_true", help="Write the datasets uncompressed.")
    parser.add_argument("--input_file", default=None, help="Annotated source dataset (default: built and cached).")
    parser.add_argument(
        "--source_num_demos",
        type=_positive_int,
        default=None,
        help=f"Demos of the cached source dataset to build/use (default: {DEFAULT_NUM_SOURCE_DEMOS}).",
    )
    parser.add_argument("--keep_datasets", action="store_true", help="Keep the generated datasets.")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Profile every run's loop thread with cProfile (slower loop; profiles under the runs folder).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="A tiny run for CI: 2 envs, 2 trials, 32x32 images, a 2-demo source dataset.",
    )
    args = parser.parse_args(argv)
    if args.input_file is not None and not os.path.isfile(args.input_file):
        parser.error(f"the input file '{args.input_file}' does not exist")
    for key, default in {**DEFAULTS, "repeats": 5}.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else default)
    return args


def _positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_ints(text: str) -> list[int]:
    """An argparse type: a comma-separated list of positive integers (duplicates dropped, order kept)."""
    values = [_positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected one or more positive integers, got '{text}'")
    return list(dict.fromkeys(values))


def _names(choices: dict[str, Any]) -> Any:
    """An argparse type: a comma-separated list of names out of ``choices``, in the given order."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"expected names out of {', '.join(choices)}, got '{text}'")
        return list(dict.fromkeys(names))

    return parse


"""
Planning and running.
"""


def plan_jobs(args: argparse.Namespace, input_file: str, runs_dir: str) -> list[Job]:
    """The runs in execution order: repeat round by repeat round; in a round, workload by workload and number of
    demos by number of demos, every mode once, the modes rotated by one per round."""
    jobs = []
    for repeat in range(args.repeats):
        shift = repeat % len(args.modes)
        modes = args.modes[shift:] + args.modes[:shift]
        for workload_name in args.workloads:
            workload = WORKLOADS[workload_name]
            for trials in args.generation_num_trials:
                for mode in modes:
                    jobs.append(
                        Job(
                            workload=workload_name,
                            mode=mode,
                            repeat=repeat,
                            task=workload.task,
                            enable_cameras=workload.enable_cameras,
                            camera_size=args.camera_size if workload.enable_cameras else None,
                            input_file=input_file,
                            runs_dir=runs_dir,
                            num_envs=args.num_envs,
                            generation_num_trials=trials,
                            device=args.device,
                            seed=args.seed,
                            torch_threads=args.torch_threads,
                            dataset_compression=not args.disable_dataset_compression,
                            profile=args.profile,
                        )
                    )
    return jobs


def run_jobs(jobs: list[Job]) -> list[dict[str, Any]]:
    """Run every job in its own process, in order, and return their results.

    Raises:
        RuntimeError: If a run fails (with the end of its log).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    results = []
    for index, job in enumerate(jobs, start=1):
        print(
            f"[{index}/{len(jobs)}] {job.workload} / {job.generation_num_trials} demos / {job.mode}"
            f" (repeat {job.repeat + 1}) ...",
            end=" ",
            flush=True,
        )
        process = context.Process(target=_job_process, args=(job,), name=job.name)
        process.start()
        process.join()
        if process.exitcode != 0 or not os.path.isfile(job.result_file):
            print("failed")
            raise RuntimeError(f"Run '{job.name}' failed (exit code {process.exitcode}):\n{_tail(job.log_file)}")
        with open(job.result_file) as file:
            result = json.load(file)
        print(f"{result['wall_seconds']:.1f} s, {result['num_success']} demos, {result['demos_written']} written")
        results.append(result)
    return results


def _job_process(job: Job) -> None:
    """Entry point of a run's process: run the job with its output (and any traceback) going to its log file, and
    write its measurements as JSON."""
    sys.stdout.flush()
    sys.stderr.flush()
    with open(job.log_file, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    result = run_job(job)
    with open(job.result_file, "w") as file:
        json.dump(result, file, indent=2)


def run_job(job: Job) -> dict[str, Any]:
    """Run one generation in this process and measure it.

    Returns:
        The run's identity, the generation summary's timings and counts, the writer statistics, peak RSS and (on
        CUDA) peak device memory.
    """
    cuda = job.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats(job.device)
    load_average_start = _load_average()
    main_thread_start = _main_thread_times()
    if job.device == "cpu":
        torch.set_num_threads(job.torch_threads if job.torch_threads > 0 else max(1, (os.cpu_count() or 1) - 1))
    profiler = cProfile.Profile() if job.profile else None
    if profiler is not None:
        profiler.enable()
    summary = generate_dataset(
        env_name=job.task,
        input_file=job.input_file,
        output_file=job.output_file,
        num_envs=job.num_envs,
        generation_num_trials=job.generation_num_trials,
        device=job.device,
        seed=job.seed,
        dataset_compression=job.dataset_compression,
        show_progress=False,
        env_cfg_hook=None if job.camera_size is None else resize_cameras(job.camera_size),
        **MODES[job.mode],
    )
    if profiler is not None:
        profiler.disable()
        write_profile(profiler, job.profile_file)
    main_thread_end = _main_thread_times()
    main_thread = {key: main_thread_end[key] - main_thread_start[key] for key in main_thread_end}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    writer = summary.writer
    exported = job.mode != BASELINE_MODE
    result = {
        "name": job.name,
        "group": job.group,
        **dataclasses.asdict(job),
        "output_file": summary.output_file if exported else None,
        "camera_bytes": camera_bytes(summary.output_file) if exported else None,
        "loop_seconds": summary.loop_seconds,
        "wall_seconds": summary.wall_seconds,
        "export_call_seconds": summary.export_seconds,
        "blocked_seconds": writer["blocked_seconds"],
        "write_seconds": writer["write_seconds"],
        "bytes_written": writer["bytes_written"],
        "write_throughput_mb_s": _throughput_mb_s(writer["bytes_written"], writer["write_seconds"]),
        "peak_queue_depth": writer["peak_queue_depth"],
        "peak_queue_bytes": writer["peak_queue_bytes"],
        "peak_rss_mb": _max_rss_mb(usage.ru_maxrss),
        "peak_cuda_allocated_mb": torch.cuda.max_memory_allocated(job.device) / 2**20 if cuda else None,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        **main_thread,
        "torch_threads_used": torch.get_num_threads(),
        "load_average_start": load_average_start,
        "demos_written": writer["episodes_written"],
        "num_success": summary.num_success,
        "num_failures": summary.num_failures,
        "num_attempts": summary.num_attempts,
        "writer": writer,
    }
    print(json.dumps(result, indent=2))
    return result


def camera_bytes(path: str) -> int:
    """Bytes the camera images take on disk: the uint8 (T, H, W, 3) datasets of an HDF5 file (as stored, compressed
    or not), or the video files of a LeRobot dataset folder."""
    if os.path.isdir(path):
        videos = os.path.join(path, "videos")
        return sum(
            os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(videos) for name in names
        )
    total = 0

    def visit(_: str, item: Any) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset) and item.dtype == "uint8" and item.ndim == 4 and item.shape[-1] == 3:
            total += item.id.get_storage_size()

    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return total


def write_profile(profiler: cProfile.Profile, path: str, top: int = 30) -> None:
    """Save a run's profile (``.prof``, for pstats or snakeviz) and a text summary beside it (``.txt``): the
    functions with the most own time and with the most cumulative time."""
    profiler.dump_stats(path)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    text.write("Loop thread (main thread) profile: top functions by own time\n")
    stats.sort_stats("tottime").print_stats(top)
    text.write("\nTop functions by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(top)
    with open(os.path.splitext(path)[0] + ".txt", "w") as file:
        file.write(text.getvalue())


def resize_cameras(size: int) -> Callable[[Any], None]:
    """An env config hook for :func:`generate_dataset` that makes every camera render ``size`` x ``size`` images."""

    def hook(env_cfg: Any) -> None:
        for camera in env_cfg.scene.cameras.values():
            camera.width = camera.height = size

    return hook


def _main_thread_times() -> dict[str, float]:
    """Where the calling thread's time went so far, in seconds: ``main_thread_seconds`` (a wall clock),
    ``main_thread_cpu_seconds`` (running), and on Linux ``main_thread_runnable_seconds`` (ready but waiting for a
    core: other threads and processes had them) and ``main_thread_waiting_seconds`` (the rest: sleeping on a lock
    such as the GIL, or on I/O). Differences of two calls give the times of what ran in between."""
    wall, cpu = time.perf_counter(), time.thread_time()
    times = {"main_thread_seconds": wall, "main_thread_cpu_seconds": cpu}
    try:
        with open("/proc/thread-self/schedstat") as file:
            runnable = int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return times
    times["main_thread_runnable_seconds"] = runnable
    times["main_thread_waiting_seconds"] = wall - cpu - runnable
    return times


def _throughput_mb_s(num_bytes: int, seconds: float) -> float | None:
    """Megabytes (1e6 bytes) per second, or None if nothing was timed."""
    return num_bytes / 1e6 / seconds if seconds > 0 else None


def _max_rss_mb(ru_maxrss: int) -> float:
    """``ru_maxrss`` in MiB (it is in KiB on Linux, in bytes on macOS)."""
    return ru_maxrss / 2**20 if sys.platform == "darwin" else ru_maxrss / 2**10


def _tail(path: str, num_lines: int = 40) -> str:
    """The last lines of a text file (empty if it does not exist)."""
    if not os.path.isfile(path):
        return ""
    with open(path, errors="replace") as file:
        return "".join(file.readlines()[-num_lines:])


"""
Checks and summaries.
"""


def check_identical(results: list[dict[str, Any]], groups: list[str]) -> dict[str, dict[str, Any]]:
    """Compare every exported dataset of a (workload, demos) group with that of its first ``sync`` run.

    Returns:
        Per group (``<workload>/<demos>``): ``identical`` (True/False, or None without a ``sync`` run and another
        exporting run), the reference run, the compared runs and the differences of each run that differs.
    """
    checks = {}
    for group in groups:
        exported = [
            r
            for r in results
            if r["group"] == group and r["output_file"] is not None and MODES[r["mode"]].get("dataset_format") is None
        ]
        reference = next((r for r in exported if r["mode"] == REFERENCE_MODE), None)
        others = [r for r in exported if r is not reference]
        if reference is None or not others:
            checks[group] = {"identical": None, "reference": None, "compared": [], "diffs": {}}
            continue
        diffs = {r["name"]: diff_hdf5_files(reference["output_file"], r["output_file"]) for r in others}
        checks[group] = {
            "identical": not any(diffs.values()),
            "reference": reference["name"],
            "compared": sorted(diffs),
            "diffs": {name: lines for name, lines in diffs.items() if lines},
        }
    return checks


def group_names(args: argparse.Namespace) -> list[str]:
    """The (workload, demos) groups of a run, in order, as ``<workload>/<demos>``."""
    return [f"{workload}/{trials}" for workload in args.workloads for trials in args.generation_num_trials]


def summarize(results: list[dict[str, Any]], groups: list[str], modes: list[str]) -> list[dict[str, Any]]:
    """One row per group and mode: the median of every measurement over the repeats, and the spread (minimum,
    median, maximum) of the per-round ratios of its loop and loop + drain times to ``no_export``'s and ``sync``'s."""
    rows = []
    for group in groups:
        for mode in modes:
            runs = sorted((r for r in results if r["group"] == group and r["mode"] == mode), key=lambda r: r["repeat"])
            if not runs:
                continue
            row = {
                "group": group,
                "workload": runs[0]["workload"],
                "generation_num_trials": runs[0]["generation_num_trials"],
                "mode": mode,
                "repeats": len(runs),
            }
            row.update({key: _median([r.get(key) for r in runs]) for key in _MEASURES})
            row["loop_seconds_all"] = [r["loop_seconds"] for r in runs]
            row["wall_seconds_all"] = [r["wall_seconds"] for r in runs]
            for reference in (BASELINE_MODE, REFERENCE_MODE):
                for measure, key in (("loop", "loop_seconds"), ("wall", "wall_seconds")):
                    ratios = round_ratios(results, group, mode, reference, key)
                    row[f"{measure}_ratio_to_{reference}"] = spread(ratios)
            rows.append(row)
    return rows


def round_ratios(results: list[dict[str, Any]], group: str, mode: str, reference: str, key: str) -> list[float]:
    """The ratio of a mode's measurement to the reference mode's, one per repeat round that ran both."""
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for result in results:
        if result["group"] == group and result["mode"] in (mode, reference):
            by_round.setdefault(result["repeat"], {})[result["mode"]] = result
    ratios = []
    for repeat in sorted(by_round):
        runs = by_round[repeat]
        if mode in runs and reference in runs and runs[reference][key]:
            ratios.append(runs[mode][key] / runs[reference][key])
    return ratios


def spread(values: list[float]) -> dict[str, Any]:
    """Minimum, median and maximum of the values, and the values (all None without values)."""
    if not values:
        return {"min": None, "median": None, "max": None, "values": []}
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "values": values}


def check_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets of the asynchronous modes, per group: the median per-round ratio, its spread and whether the
    median meets the target."""
    checks = []
    for row in rows:
        if not row["mode"].startswith("async"):
            continue
        for target, limit in TARGETS.items():
            measure, reference = target.split("_vs_")
            ratio = row[f"{measure}_ratio_to_{reference}"]
            if ratio["median"] is None:
                continue
            checks.append(
                {
                    "group": row["group"],
                    "mode": row["mode"],
                    "target": target,
                    "limit": limit,
                    "median": ratio["median"],
                    "min": ratio["min"],
                    "max": ratio["max"],
                    "met": ratio["median"] <= limit,
                }
            )
    return checks


_MEASURES = (
    "loop_seconds",
    "wall_seconds",
    "export_call_seconds",
    "blocked_seconds",
    "write_seconds",
    "bytes_written",
    "camera_bytes",
    "write_throughput_mb_s",
    "peak_queue_depth",
    "peak_queue_bytes",
    "peak_rss_mb",
    "peak_cuda_allocated_mb",
    "cpu_seconds",
    "main_thread_seconds",
    "main_thread_cpu_seconds",
    "main_thread_runnable_seconds",
    "main_thread_waiting_seconds",
    "demos_written",
    "num_success",
    "num_attempts",
)
"""The per-run measurements summarized by their median."""


def _median(values: list[Any]) -> Any:
    """The median of the values that are not None (None if there are none)."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def machine_info(device: str) -> dict[str, Any]:
    """The machine and software the benchmark ran on."""
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": _memory_gb(),
        "torch": torch.__version__,
        "torch_default_threads": torch.get_num_threads(),
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "device": device,
        "cuda_device": torch.cuda.get_device_name(device) if device.startswith("cuda") else None,
        "load_average_start": _load_average(),
    }
    return info


def _memory_gb() -> float | None:
    """Physical memory in GB, if the OS says."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, if the OS says (other processes disturb the timings)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (OSError, AttributeError):
        return None


"""
Reports.
"""


def write_json(path: str, report: dict[str, Any]) -> None:
    """Write the full report as JSON."""
    with open(path, "w") as file:
        json.dump(report, file, indent=2)


def markdown_table(report: dict[str, Any]) -> str:
    """The results as a markdown document: the table, the targets, the dataset checks and the run's settings."""
    args, machine = report["args"], report["machine"]
    camera = f"{args['camera_size']}x{args['camera_size']}" if args["camera_size"] else "task default (84x84)"
    demos = ", ".join(str(trials) for trials in args["generation_num_trials"])
    lines = [
        "# Mimic generation benchmark",
        "",
        f"{args['num_envs']} envs, {demos} demos, seed {args['seed']}, device {args['device']}, {args['repeats']}"
        f" interleaved repeat round(s), camera images {camera}, torch threads"
        f" {args['torch_threads'] or 'all cores but one'},"
        f" compression {'off' if args['disable_dataset_compression'] else 'on'}"
        f"{', profiled (cProfile on the loop thread)' if args.get('profile') else ''}.",
        f"Machine: {machine['cpu_count']} CPUs, torch {machine['torch']}, {machine['platform']}; load average"
        f" {machine['load_average_start']} at start, {machine['load_average_end']} at end.",
        "",
        "Times: medians over the repeats. Ratios: median [min-max] of the per-round ratios (each taken within one"
        " repeat round). loop + drain: the loop, the final drain of the writer and the closing of the file. Loop"
        " thread (the main thread, from its start to the file closed): running on a core, ready but without a free"
        " core (other threads or processes had them), and waiting (for the GIL, a lock, or the drain).",
        "",
        "| workload | demos | mode | loop s | loop / no_export | loop + drain s | loop + drain / no_export |"
        " loop + drain / sync | in export calls s | loop thread: running s | no free core s | waiting (GIL, locks) s |"
        " blocked s | writer MB/s | peak queue | peak RSS MB | peak CUDA MB | demos written | camera MB on disk |",
        "| --- | ---: | --- |" + " ---: |" * 16,
    ]
    for row in report["rows"]:
        cells = [
            row["workload"],
            str(row["generation_num_trials"]),
            row["mode"],
            _fmt(row["loop_seconds"], 2),
            _fmt_spread(row["loop_ratio_to_no_export"]),
            _fmt(row["wall_seconds"], 2),
            _fmt_spread(row["wall_ratio_to_no_export"]),
            _fmt_spread(row["wall_ratio_to_sync"]) if row["mode"] != BASELINE_MODE else "-",
            _fmt(row["export_call_seconds"], 3),
            _fmt(row["main_thread_cpu_seconds"], 2),
            _fmt(row["main_thread_runnable_seconds"], 2),
            _fmt(row["main_thread_waiting_seconds"], 2),
            _fmt(row["blocked_seconds"], 3),
            _fmt(row["write_throughput_mb_s"], 1),
            _fmt(row["peak_queue_depth"], 0),
            _fmt(row["peak_rss_mb"], 0),
            _fmt(row["peak_cuda_allocated_mb"], 0),
            _fmt(row["demos_written"], 0),
            _fmt(row["camera_bytes"] / 1e6 if row["camera_bytes"] is not None else None, 2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if report["targets"]:
        lines.append("Targets of the asynchronous modes (median of the per-round ratios):")
        lines.append("")
        names = {
            "loop_vs_no_export": "loop / no_export",
            "wall_vs_no_export": "loop + drain / no_export",
            "wall_vs_sync": "loop + drain / sync",
        }
        for check in report["targets"]:
            state = "met" if check["met"] else f"MISSED by {check['median'] / check['limit'] - 1:.1%}"
            lines.append(
                f"- {check['group']} {check['mode']}: {names[check['target']]} {check['median']:.3f}x"
                f" [{check['min']:.3f}-{check['max']:.3f}] (target <= {check['limit']:.2f}x): {state}"
            )
        lines.append("")
    for group, check in report["identical"].items():
        state = {True: "identical", False: "DIFFERENT", None: "not compared"}[check["identical"]]
        compared = f"{len(check['compared'])} run(s) compared with {check['reference']}" if check["reference"] else ""
        lines.append(f"- {group} demos: exported datasets {state}{f' ({compared})' if compared else ''}.")
    if not args["device"].startswith("cuda"):
        lines.append("- Peak CUDA memory: not measured (device is not CUDA).")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None, digits: int, suffix: str = "") -> str:
    """A number for the table ("-" if missing)."""
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def _fmt_spread(ratio: dict[str, Any]) -> str:
    """A ratio spread as ``median [min-max]`` ("-" if missing)."""
    if ratio["median"] is None:
        return "-"
    return f"{ratio['median']:.3f}x [{ratio['min']:.3f}-{ratio['max']:.3f}]"


def write_plot(path: str, rows: list[dict[str, Any]], groups: list[str], title: str) -> None:
    """Per (workload, demos) panel, for every mode but ``no_export``: the median per-round ratio of the loop and of
    loop + drain to ``no_export``, with bars from the smallest to the largest ratio, and the targets as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4.2), squeeze=False)
    width = 0.38
    for ax, group in zip(axes[0], groups):
        group_rows = [row for row in rows if row["group"] == group and row["mode"] != BASELINE_MODE]
        names = [row["mode"] for row in group_rows]
        for offset, (measure, label, color) in enumerate(
            (("loop", "loop", "tab:blue"), ("wall", "loop + drain", "tab:orange"))
        ):
            ratios = [row[f"{measure}_ratio_to_{BASELINE_MODE}"] for row in group_rows]
            if not ratios or any(ratio["median"] is None for ratio in ratios):
                continue
            medians = [ratio["median"] for ratio in ratios]
            yerr = [[r["median"] - r["min"] for r in ratios], [r["max"] - r["median"] for r in ratios]]
            positions = [index + (offset - 0.5) * width for index in range(len(names))]
            bars = ax.bar(positions, medians, width=width, yerr=yerr, capsize=3, color=color, label=label)
            ax.bar_label(bars, labels=[f"{m:.2f}" for m in medians], label_type="center", color="white", fontsize=8)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.axhline(TARGETS["loop_vs_no_export"], color="tab:blue", linestyle="--", linewidth=0.8)
        ax.axhline(TARGETS["wall_vs_no_export"], color="tab:orange", linestyle="--", linewidth=0.8)
        ax.set_xticks(range(len(names)), names)
        workload, trials = group.split("/")
        ax.set_title(f"{workload} workload, {trials} demos", fontsize=10)
        ax.set_ylabel("time / no_export (median, min-max over rounds)")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


"""
Main.
"""


def prepare_runs_dir(output_dir: str) -> str:
    """Create the output folder and an empty scratch folder for the runs in it."""
    runs_dir = os.path.join(output_dir, RUNS_DIR_NAME)
    shutil.rmtree(runs_dir, ignore_errors=True)
    for name in ("datasets", "logs", "profiles"):
        os.makedirs(os.path.join(runs_dir, name))
    return runs_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status (1 if the exported datasets differ)."""
    args = parse_args(argv)
    runs_dir = prepare_runs_dir(args.output_dir)
    machine = machine_info(args.device)
    input_file = args.input_file or ensure_source_dataset(
        STATE_TASK, device=args.device, num_demos=args.source_num_demos
    )
    started = time.perf_counter()
    results = run_jobs(plan_jobs(args, input_file, runs_dir))
    machine["load_average_end"] = _load_average()
    identical = check_identical(results, group_names(args))
    command = sys.argv[1:] if argv is None else list(argv)
    report = build_report(args, machine, input_file, results, identical, time.perf_counter() - started, command)
    table = write_reports(args, report)
    if not args.device.startswith("cuda"):
        print("[INFO] Peak CUDA memory could not be measured: the device is the CPU (recorded as null).")
    print()
    print(table)

    if report_differences(identical):
        print(f"[ERROR] The exported datasets differ; they are kept in {runs_dir}/datasets.", file=sys.stderr)
        return 1
    if not args.keep_datasets:
        shutil.rmtree(os.path.join(runs_dir, "datasets"), ignore_errors=True)
    return 0


def build_report(
    args: argparse.Namespace,
    machine: dict[str, Any],
    input_file: str,
    results: list[dict[str, Any]],
    identical: dict[str, dict[str, Any]],
    seconds: float,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """The full report: machine, arguments, one row per group and mode, ratios, targets, dataset checks, every run."""
    rows = summarize(results, group_names(args), args.modes)
    ratios: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        ratios.setdefault(row["group"], {})[row["mode"]] = {
            "loop_to_no_export": row["loop_ratio_to_no_export"],
            "wall_to_no_export": row["wall_ratio_to_no_export"],
            "wall_to_sync": row["wall_ratio_to_sync"],
        }
    return {
        "benchmark": RESULT_NAME,
        "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["benchmark_mimic_generation.py", *(command or [])]),
        "machine": machine,
        "args": vars(args),
        "source_dataset": input_file,
        "total_seconds": seconds,
        "rows": rows,
        "ratios": ratios,
        "targets": check_targets(rows),
        "identical": identical,
        "runs": results,
    }


def write_reports(args: argparse.Namespace, report: dict[str, Any]) -> str:
    """Write the JSON report, the markdown table and the chart under the output folder; return the table."""
    base = os.path.join(args.output_dir, RESULT_NAME)
    write_json(f"{base}.json", report)
    table = markdown_table(report)
    with open(f"{base}.md", "w") as file:
        file.write(table)
    title = (
        f"Mimic generation: {args.num_envs} envs, {args.device}, {args.repeats} interleaved rounds;"
        " dashed: targets 1.05x (loop) and 1.10x (loop + drain)"
    )
    write_plot(f"{base}.png", report["rows"], group_names(args), title)
    print(f"[INFO] Results: {base}.json, {base}.md, {base}.png")
    return table


def report_differences(identical: dict[str, dict[str, Any]]) -> bool:
    """Print the differences between exported datasets, if any; return whether there were any."""
    different = False
    for group, check in identical.items():
        for name, lines in check["diffs"].items():
            print(f"[ERROR] {group}: {name} differs from {check['reference']}:", *lines[:20], sep="\n  ")
            different = True
    return different


if __name__ == "__main__":
    sys.exit(main())
