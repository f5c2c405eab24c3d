"""Annotate source demonstrations with the subtask signals and poses Mimic generates from."""

import argparse

from isaaclab_mimic.tools import cli
from isaaclab_mimic.tools.annotate import annotate_demos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0", help="Name of the Mimic task.")
    parser.add_argument("--input_file", default="./datasets/dataset.hdf5", help="Source dataset to annotate.")
    parser.add_argument(
        "--output_file", default="./datasets/annotated_dataset.hdf5", help="Annotated dataset to create."
    )
    parser.add_argument("--auto", action="store_true", help="Annotate from the env's subtask signals (required here).")
    cli.add_launcher_args(parser)
    args = parser.parse_args()
    if not args.auto:
        raise cli.ToolError("Only automatic annotation is available here; pass --auto.")
    annotate_demos(
        task=args.task,
        input_file=args.input_file,
        output_file=args.output_file,
        device=args.device,
        enable_cameras=args.enable_cameras,
    )


if __name__ == "__main__":
    cli.run(main)
