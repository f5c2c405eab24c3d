"""Record episodes of random actions from a task into an HDF5 dataset, with the recorder API directly.

A minimal example of Isaac Lab's recording stack: the env records actions, observations and states through
``ActionStateRecorderManagerCfg`` and exports every episode when it resets (here: when it times out).
"""

import argparse
import time

import torch

from isaaclab.envs.mdp.recorders.recorders_cfg import ActionStateRecorderManagerCfg

from isaaclab_mimic.tools import cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="Isaac-Stack-Cube-Gripper-IK-Rel-v0", help="Name of the task.")
    parser.add_argument("--num_envs", type=cli.positive_int, default=4, help="Number of environments.")
    parser.add_argument("--num_episodes", type=cli.positive_int, default=8, help="Episodes to record.")
    parser.add_argument("--episode_length_s", type=float, default=5.0, help="Episode length in seconds.")
    parser.add_argument("--output_file", default="./datasets/recorded_episodes.hdf5", help="Dataset file to create.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the env and the random actions.")
    parser.add_argument("--async_write", action="store_true", help="Export on a background writer thread.")
    parser.add_argument("--early_cpu_offload", action="store_true", help="Store recorded tensors on the CPU.")
    cli.add_launcher_args(parser)
    args = parser.parse_args()
    if args.episode_length_s <= 0:
        raise cli.ToolError(f"--episode_length_s must be positive, got {args.episode_length_s}.")

    output_dir, output_name = cli.new_dataset_file(args.output_file, "Output file")
    env_cfg = cli.load_env_cfg(args.task, args.device, args.num_envs, args.enable_cameras)
    env_cfg.seed = args.seed
    env_cfg.episode_length_s = args.episode_length_s
    env_cfg.recorders = ActionStateRecorderManagerCfg(
        dataset_export_dir_path=output_dir,
        dataset_filename=output_name,
        async_write=args.async_write,
        early_cpu_offload=args.early_cpu_offload,
    )
    env = cli.make_env(args.task, env_cfg)
    generator = torch.Generator(device=env.device).manual_seed(args.seed)
    action_dim = env.action_manager.action.shape[1]
    start = time.perf_counter()
    try:
        env.reset()  # records each episode's initial state, as in every Isaac Lab recording script
        recorder = env.recorder_manager
        while recorder.exported_successful_episode_count + recorder.exported_failed_episode_count < args.num_episodes:
            actions = torch.rand(env.num_envs, action_dim, generator=generator, device=env.device) * 2.0 - 1.0
            env.step(actions)
    finally:
        env.close()
    stats = env.recorder_manager.writer_statistics
    print(
        f"Recorded {stats.episodes_written} episodes to {output_dir}/{output_name}.hdf5 in"
        f" {time.perf_counter() - start:.1f} s ({stats.submit_seconds:.2f} s in export calls,"
        f" {stats.write_seconds:.2f} s writing)."
    )


if __name__ == "__main__":
    cli.run(main)
