# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""
Main data generation script.
"""

import argparse
import os
import signal
import sys

from isaaclab.app import add_launcher_args, launch_simulation, scan
from isaaclab.utils.string import list_intersection, string_to_callable

parser = argparse.ArgumentParser(description="Generate demonstrations for Isaac Lab environments.")
parser.add_argument("--task", type=str, default=None, help="Name of the task.")
parser.add_argument("--generation_num_trials", type=int, help="Number of demos to be generated.", default=None)
parser.add_argument(
    "--max_num_failures", type=int, default=None, help="Stop after this many failed generation attempts."
)
parser.add_argument(
    "--num_envs", type=int, default=1, help="Number of environments to instantiate for generating datasets."
)
parser.add_argument(
    "--input_file",
    type=str,
    default=None,
    help="File path to the source dataset file. Without it, a task that can build its own source dataset (the"
    " embedded cube-stacking task) builds one once and caches it.",
)
parser.add_argument(
    "--output_file",
    type=str,
    default="./datasets/output_dataset.hdf5",
    help="File path to export recorded and generated episodes.",
)
parser.add_argument(
    "--dataset_format",
    choices=("hdf5", "lerobot"),
    default="hdf5",
    help="Write an HDF5 dataset file, or a LeRobot v3.0 dataset folder at --output_file (a trailing .hdf5 is dropped;"
    " camera observations become videos; needs Isaac Lab's 'lerobot' extra). See docs/lerobot.md.",
)
parser.add_argument(
    "--video_codec",
    default=None,
    help="With --dataset_format lerobot: the video encoder (default libsvtav1, LeRobot's; libx264 is faster on a CPU;"
    " h264_nvenc, hevc_nvenc or av1_nvenc on a GPU that has NVENC, falling back to libsvtav1).",
)
parser.add_argument(
    "--pause_subtask",
    action="store_true",
    help="Pause after every subtask during generation for debugging - only useful with render flag",
)
parser.add_argument(
    "--use_skillgen",
    action="store_true",
    default=False,
    help="Use skillgen to generate motion trajectories",
)
parser.add_argument(
    "--disable_dataset_compression",
    action="store_true",
    default=False,
    help="Disables dataset compression",
)
parser.add_argument(
    "--external_callback",
    default=None,
    help="Fully qualified path to an externally defined callback.",
)
parser.add_argument(
    "--async_write",
    action="store_true",
    default=False,
    help="Write the generated demos on a background thread, so that the simulation loop does not wait on file I/O.",
)
parser.add_argument(
    "--early_cpu_offload",
    action="store_true",
    default=False,
    help="Move recorded tensors to the CPU as they are recorded, so that device memory does not grow with episodes.",
)
parser.add_argument("--seed", type=int, default=None, help="Seed of the generation (default: the task's).")
parser.add_argument(
    "--torch_threads",
    type=int,
    default=None,
    help="Torch CPU threads when simulating on the CPU (default: all cores but one, left to the dataset writer).",
)
parser.add_argument(
    "--num_workers",
    type=int,
    default=None,
    help="Generate on this many Ray workers (processes; one GPU each with a CUDA device), each with --num_envs"
    " environments, and merge their shards into --output_file (see docs/scale_out.md). Needs the 'ray' extra of"
    " isaaclab_mimic.",
)
parser.add_argument(
    "--ray_address",
    type=str,
    default=None,
    help="With --num_workers: join this Ray cluster (default: start a local one).",
)
parser.add_argument(
    "--ray_connect_timeout",
    type=float,
    default=60.0,
    help="With --ray_address: seconds to wait for the Ray cluster to accept this process.",
)
parser.add_argument(
    "--dataset_compression_threads",
    type=int,
    default=None,
    help="gzip threads of the recorder (default: the recorder's; with --num_workers: 1 per worker, its one CPU).",
)

add_launcher_args(parser)
args_cli, remaining_args = parser.parse_known_args()
for flag in (
    "max_num_failures",
    "num_envs",
    "generation_num_trials",
    "torch_threads",
    "num_workers",
    "dataset_compression_threads",
):
    value = getattr(args_cli, flag)
    if value is not None and value < 1:
        parser.error(f"--{flag} must be positive, got {value}")
if not args_cli.ray_connect_timeout > 0:
    parser.error(f"--ray_connect_timeout must be positive, got {args_cli.ray_connect_timeout}")
if args_cli.num_workers is None and args_cli.ray_address is not None:
    parser.error("--ray_address needs --num_workers")
if args_cli.num_workers is not None and (args_cli.use_skillgen or args_cli.pause_subtask):
    parser.error("--num_workers does not support --use_skillgen or --pause_subtask")
if args_cli.video_codec is not None and args_cli.dataset_format != "lerobot":
    parser.error("--video_codec needs --dataset_format lerobot")

# Mimic environments may use camera observations or an RTX renderer. Request
# rendering support here so callers do not need a legacy CLI flag.
args_cli.enable_cameras = True

# Call an external callback if requested.
remaining_args_env_registration = None
if args_cli.external_callback:
    external_callback_function = string_to_callable(args_cli.external_callback, separator=".")
    remaining_args_env_registration = external_callback_function()

# Error on unrecognized arguments.
unrecognized_args = list_intersection(remaining_args, remaining_args_env_registration)
if unrecognized_args:
    parser.error(f"unrecognized arguments: {' '.join(unrecognized_args)}")

import gymnasium as gym
import torch

from isaaclab.utils.datasets import HDF5DatasetFileHandler

import isaaclab_mimic.envs  # noqa: F401
from isaaclab_mimic.datagen.dataset_format import check_new_dataset, dataset_output_path

from isaaclab_tasks.utils.parse_cfg import parse_env_cfg

EMBEDDED_TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
"""The task generated when neither --task nor --input_file is given (if the embedded runtime is installed)."""


def main():
    # Get env name: from --task, else from the source dataset, else the embedded task
    task_name = args_cli.task
    if task_name:
        task_name = args_cli.task.split(":")[-1]
    if not task_name and args_cli.input_file is not None:
        if not os.path.isfile(args_cli.input_file):
            raise FileNotFoundError(f"The dataset file {args_cli.input_file} does not exist.")
        dataset_file_handler = HDF5DatasetFileHandler()
        dataset_file_handler.open(args_cli.input_file)
        task_name = dataset_file_handler.get_env_name()
        dataset_file_handler.close()
        if not task_name:
            raise ValueError(f"Environment name not found in dataset {args_cli.input_file}; pass --task.")
    env_name = task_name or EMBEDDED_TASK
    try:
        gym.spec(env_name)
    except gym.error.Error:
        parser.error(f"unknown task '{env_name}': it is not registered with gymnasium")
    check_new_dataset(dataset_output_path(args_cli.output_file, args_cli.dataset_format), args_cli.dataset_format)
    input_file = args_cli.input_file if args_cli.input_file is not None else build_source_dataset(env_name)
    if args_cli.num_workers is not None:
        # the workers launch their own simulation runtime
        generate_distributed_dataset(env_name, input_file)
        return

    # Launch the runtime the task needs before loading the mimic helpers, which import USD
    with launch_simulation(parse_env_cfg(env_name, device=args_cli.device, num_envs=args_cli.num_envs), args_cli):
        generate(env_name, input_file)


def build_source_dataset(env_name: str) -> str:
    """The annotated source dataset of a task that can build its own (recorded and annotated once, then cached)."""
    try:
        from isaaclab_mimic.tools.source_dataset import ensure_source_dataset
    except ImportError:
        parser.error("the following arguments are required: --input_file")
    if not env_name.startswith("Isaac-Stack-Cube-Gripper"):
        parser.error(f"task '{env_name}' cannot build its own source dataset: pass --input_file")
    return ensure_source_dataset(env_name, device=args_cli.device, enable_cameras=args_cli.enable_cameras)


def job_settings(input_file: str) -> dict:
    """The settings of a generation job given on the command line, as keyword arguments."""
    return {
        "input_file": input_file,
        "output_file": args_cli.output_file,
        "num_envs": args_cli.num_envs,
        "device": args_cli.device,
        "generation_num_trials": args_cli.generation_num_trials,
        "max_num_failures": args_cli.max_num_failures,
        "seed": args_cli.seed,
        "dataset_compression": not args_cli.disable_dataset_compression,
        "async_write": args_cli.async_write,
        "early_cpu_offload": args_cli.early_cpu_offload,
    }


def generate(env_name: str, input_file: str):
    """Generate the dataset in this process, and print a summary."""
    from isaaclab_mimic.datagen.dataset_generation import generate_dataset

    if torch.device(args_cli.device).type == "cpu":
        # every core but one: the simulation's many small tensor operations slow down a lot when the writer thread
        # has no core of its own (the same count is used with and without --async_write, so the files are the same)
        torch.set_num_threads(args_cli.torch_threads or max(1, (os.cpu_count() or 1) - 1))

    def configure(env_cfg):
        if args_cli.dataset_compression_threads is not None:
            env_cfg.recorders.dataset_compression_threads = args_cli.dataset_compression_threads
        # resolve the automatic physics and renderer selections of this config the same way the launch did
        scan(env_cfg, args_cli)

    summary = generate_dataset(
        env_name=env_name,
        **job_settings(input_file),
        pause_subtask=args_cli.pause_subtask,
        env_cfg_hook=configure,
        make_motion_planners=make_motion_planners if args_cli.use_skillgen else None,
        dataset_format=args_cli.dataset_format,
        video_codec=args_cli.video_codec,
    )
    writer = summary.writer
    print(
        f"{summary.num_success}/{summary.num_attempts} ({summary.success_rate:.1f}%) successful demos generated by"
        " mimic. Exiting"
    )
    print(
        f"Wrote {writer.get('episodes_written', 0)} demos to {summary.output_file} in {summary.wall_seconds:.1f} s"
        f" ({'async' if args_cli.async_write else 'sync'} export: {summary.export_seconds:.2f} s in export calls,"
        f" {writer.get('blocked_seconds', 0.0):.2f} s blocked, {writer.get('write_seconds', 0.0):.2f} s writing)."
    )


def generate_distributed_dataset(env_name: str, input_file: str):
    """Generate the dataset on --num_workers Ray workers, merge their shards into --output_file, print a summary."""
    from isaaclab_mimic.datagen.distributed_summary import DistributedGenerationError

    try:
        from isaaclab_mimic.datagen.distributed_generation import generate_distributed  # needs Ray

        summary = generate_distributed(
            task=env_name,
            **job_settings(input_file),
            num_workers=args_cli.num_workers,
            dataset_compression_threads=args_cli.dataset_compression_threads,
            ray_address=args_cli.ray_address,
            ray_connect_timeout=args_cli.ray_connect_timeout,
            launcher_args=vars(args_cli),
            dataset_format=args_cli.dataset_format,
            video_codec=args_cli.video_codec,
        )
    # Ray missing, the cluster cannot be joined or cannot run that many workers, a worker failed, a shard is unreadable
    except (ImportError, ConnectionError, ValueError, DistributedGenerationError) as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(1)
    rate = 100.0 * summary.num_demos / summary.num_attempts if summary.num_attempts else 0.0
    print(
        f"{summary.num_demos}/{summary.num_attempts} ({rate:.1f}%) successful demos generated by mimic on"
        f" {len(summary.workers)} Ray workers. Exiting"
    )


def make_motion_planners(env) -> dict:
    """One SkillGen motion planner per environment (visualization only for the first)."""
    from isaaclab_mimic.motion_planners.curobo.curobo_planner import CuroboPlanner
    from isaaclab_mimic.motion_planners.curobo.curobo_planner_cfg import CuroboPlannerCfg

    motion_planners = {}
    for env_id in range(env.num_envs):
        print(f"Initializing motion planner for environment {env_id}")
        planner_config = CuroboPlannerCfg.from_task_name(env.cfg.env_name)
        # visualizing spheres and plans of every environment is too slow: only the first one shows them
        if env_id != 0:
            planner_config.visualize_spheres = False
            planner_config.visualize_plan = False
        motion_planners[env_id] = CuroboPlanner(env=env, robot=env.scene["robot"], config=planner_config, env_id=env_id)
    env.cfg.datagen_config.use_skillgen = True
    return motion_planners


def stop_on_signals() -> None:
    """Turn the first SIGTERM (like SIGINT) into KeyboardInterrupt, so that every exported demo is written before
    the program exits; a second SIGINT or SIGTERM exits at once."""

    def interrupt(signum, frame):
        signal.signal(signal.SIGINT, abort)
        signal.signal(signal.SIGTERM, abort)
        raise KeyboardInterrupt

    def abort(signum, frame):
        print(
            f"\nSecond signal ({signal.Signals(signum).name}): exiting without writing the queued demos.",
            file=sys.stderr,
        )
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


if __name__ == "__main__":
    stop_on_signals()
    try:
        main()
    except KeyboardInterrupt:
        # the environment was closed on the way out: every demo exported so far is in the file
        print("\nProgram interrupted by user. Exiting...", file=sys.stderr)
        sys.exit(130)
    except (FileNotFoundError, FileExistsError) as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(1)
