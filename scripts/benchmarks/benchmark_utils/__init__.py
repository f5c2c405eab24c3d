# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""What the benchmark scripts of this folder share, one job per module.

* :mod:`.cli`: argument types and the common options (``--output_dir``, ``--repeats``, ``--quick``),
* :mod:`.machine`: the machine, the software and the load it ran under, and the git commit measured,
* :mod:`.rounds`: interleaved rounds (the mode order rotated every round) and per-round ratios as median [min-max],
* :mod:`.report`: the result files: JSON, a markdown table (PrettyTable) and a PNG chart (matplotlib),
* :mod:`.recorder`: an env double and the recorder configurations the recorder-level benchmarks record with,
* :mod:`.rss`: a sampler of the process's resident memory,
* :mod:`.workers`: one measuring process, run with any Python, that answers in JSON.

The modules import only what they need, so that a worker can run them with another Isaac Lab (Isaac Lab 3.0.0's
environment has no psutil or matplotlib).
"""
