# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Recover a LeRobot dataset whose writing process died (a crash, SIGKILL, power loss of the machine's OS aside).

Every episode that was completely written before the process died is kept; the rest of what was being written is
dropped. The metadata is written and the recovery journal removed, so that the folder is a complete LeRobot v3.0
dataset.

Example::

    ./isaaclab.sh -p scripts/tools/recover_lerobot_dataset.py datasets/output_dataset
"""

import argparse
import sys

from isaaclab.utils.datasets.lerobot import recover_dataset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help="The LeRobot dataset folder whose writer died.")
    args = parser.parse_args()
    try:
        num_episodes = recover_dataset(args.dataset)
    except FileNotFoundError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"Recovered {num_episodes} episodes in '{args.dataset}'.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
