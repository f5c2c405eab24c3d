"""Record source demonstrations of a task (here with the scripted expert) to an HDF5 dataset."""

import argparse

from isaaclab_mimic.tools import cli
from isaaclab_mimic.tools.record import TELEOP_DEVICES, record_demos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0", help="Name of the task.")
    parser.add_argument("--teleop_device", default="scripted", help=f"Action source: {', '.join(TELEOP_DEVICES)}.")
    parser.add_argument("--num_demos", type=cli.positive_int, default=10, help="Number of successful demos to record.")
    parser.add_argument("--dataset_file", default="./datasets/dataset.hdf5", help="Dataset file to create.")
    parser.add_argument(
        "--dataset_format",
        choices=("hdf5", "lerobot"),
        default="hdf5",
        help="Write an HDF5 file, or a LeRobot v3.0 dataset folder at --dataset_file (a trailing .hdf5 is dropped).",
    )
    parser.add_argument("--seed", type=int, default=None, help="Environment seed (default: random).")
    parser.add_argument("--num_envs", type=cli.positive_int, default=1, help="Number of parallel environments.")
    cli.add_launcher_args(parser)
    args = parser.parse_args()
    record_demos(
        task=args.task,
        num_demos=args.num_demos,
        dataset_file=args.dataset_file,
        seed=args.seed,
        device=args.device,
        num_envs=args.num_envs,
        enable_cameras=args.enable_cameras,
        teleop_device=args.teleop_device,
        dataset_format=args.dataset_format,
    )


if __name__ == "__main__":
    cli.run(main)
