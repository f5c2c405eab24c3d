# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Merge Mimic datasets into one, demo by demo: for example the shards left by an interrupted distributed run.

A folder stands for the .hdf5 files in it (``<output>_shards/`` of ``generate_dataset.py --num_workers``, in shard
order). The demos are renumbered demo_0 .. demo_<n-1> in input order; failed-demo datasets (``*_failed.hdf5``) go
to ``<output_file>_failed.hdf5``. The inputs are left as they are.

Example::

    ./isaaclab.sh -p scripts/imitation_learning/isaaclab_mimic/merge_datasets.py \\
        --input_files datasets/output_dataset_shards --output_file datasets/output_dataset.hdf5
"""

import argparse
import os
import sys

from isaaclab_mimic.datagen.dataset_merge import FAILED_SUFFIX, find_dataset_files, merge_datasets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--input_files", nargs="+", required=True, help="Dataset files and folders of dataset files, in order."
    )
    parser.add_argument("--output_file", required=True, help="The merged dataset to create (must not exist).")
    args = parser.parse_args()
    output_file = args.output_file if args.output_file.endswith(".hdf5") else f"{args.output_file}.hdf5"

    try:
        datasets, failed_datasets = find_dataset_files(args.input_files)
        if not datasets:
            raise ValueError(f"No dataset file in {' '.join(args.input_files)}.")
        outputs = [(datasets, output_file)]
        if failed_datasets:
            outputs.append((failed_datasets, f"{output_file[: -len('.hdf5')]}{FAILED_SUFFIX}.hdf5"))
        for _, output in outputs:
            if os.path.exists(output):
                raise FileExistsError(f"The output file '{output}' already exists; remove it or choose another path.")
        for inputs, output in outputs:
            result = merge_datasets(inputs, output)
            print(
                f"Merged {result.num_demos} demos from {len(inputs)} file(s) into {result.output_file}"
                f" ({result.input_bytes / 1e6:.1f} MB in {result.seconds:.2f} s, {result.throughput_mb_s:.1f} MB/s)."
            )
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
