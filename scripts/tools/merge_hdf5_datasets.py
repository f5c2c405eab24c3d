# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Merge a set of HDF5 datasets into one, demo by demo.

The demos are renumbered ``demo_0 .. demo_<n-1>`` in input order (by demo number within an input). An input folder
stands for the ``.hdf5`` files in it, such as the ``<output>_shards/`` folder that an interrupted
``generate_dataset.py --num_workers`` run leaves; its ``*_failed.hdf5`` files go to ``<output_file>_failed.hdf5``.
Demos that cannot be read stop the merge with an error naming the file and the demo, unless ``--skip_bad_demos``
is given; inputs whose demos hold different datasets are refused. The output appears only once complete (see
:mod:`isaaclab_mimic.datagen.dataset_merge`); an existing one is replaced then. The inputs are left as they are.

Example::

    ./isaaclab.sh -p scripts/tools/merge_hdf5_datasets.py \\
        --input_files datasets/output_dataset_shards --output_file datasets/output_dataset.hdf5
"""

import argparse
import sys

parser = argparse.ArgumentParser(description="Merge a set of HDF5 datasets.")
parser.add_argument(
    "--input_files",
    type=str,
    nargs="+",
    default=[],
    help="A list of paths to HDF5 files to merge (a folder stands for the .hdf5 files in it).",
)
parser.add_argument("--output_file", type=str, default="merged_dataset.hdf5", help="File path to merged output.")
parser.add_argument(
    "--skip_bad_demos",
    action="store_true",
    default=False,
    help="Leave out demos that cannot be read (each is reported) instead of stopping at the first one.",
)

args_cli = parser.parse_args()

from isaaclab_mimic.datagen.dataset_merge import merge_dataset_paths


def merge_datasets() -> int:
    """Merge the inputs into the output; print what was merged and skipped. Returns the exit status."""
    try:
        results = merge_dataset_paths(
            args_cli.input_files, args_cli.output_file, skip_bad_demos=args_cli.skip_bad_demos, overwrite=True
        )
    except (OSError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    for result in results:
        for bad_demo in result.skipped:
            print(f"Skipped: {bad_demo}")
        print(
            f"Merged {result.num_demos} demos from {len(result.demos_per_input)} file(s) into {result.output_file}"
            f" ({result.input_bytes / 1e6:.1f} MB in {result.seconds:.2f} s, {result.throughput_mb_s:.1f} MB/s"
            f"{f', {len(result.skipped)} bad demo(s) skipped' if result.skipped else ''})."
        )
    print(f"Merged dataset saved to {results[0].output_file}")
    return 0


if __name__ == "__main__":
    sys.exit(merge_datasets())
