"""Replay the actions of a dataset's demos in a task and report how many still succeed."""

import argparse

from isaaclab_mimic.tools import cli
from isaaclab_mimic.tools.replay import replay_demos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0", help="Name of the task.")
    parser.add_argument("--dataset_file", default="./datasets/dataset.hdf5", help="Dataset to replay.")
    parser.add_argument("--num_envs", type=cli.positive_int, default=1, help="Number of demos replayed at once.")
    cli.add_launcher_args(parser)
    args = parser.parse_args()
    replay_demos(
        task=args.task,
        dataset_file=args.dataset_file,
        device=args.device,
        num_envs=args.num_envs,
        enable_cameras=args.enable_cameras,
    )


if __name__ == "__main__":
    cli.run(main)
