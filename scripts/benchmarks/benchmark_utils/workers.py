# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Measuring processes: a benchmark runs each measurement in a new process (its own heap, peak memory and imports),
with any Python (for example Isaac Lab 3.0.0's environment) and any ``PYTHONPATH`` (for example an older tree).

A benchmark script is its own worker: started with ``--worker``, it reads its task as JSON on stdin, and prints its
answer as JSON on one marked line of stdout (everything else it prints is kept for error messages).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

WORKER_FLAG = "--worker"
"""The argument that makes a benchmark script serve one task instead of running the benchmark."""

_ANSWER = "[benchmark-worker-answer] "
"""Marks the line of a worker's stdout that holds its answer."""


def run_worker(
    script: str,
    task: dict[str, Any],
    python: str = sys.executable,
    pythonpath: Sequence[str] = (),
    timeout: float | None = None,
) -> Any:
    """Run a benchmark script as a worker in a new process and return its answer.

    Args:
        script: The script (it calls :func:`serve` when started with :data:`WORKER_FLAG`).
        task: What to measure, as JSON-friendly values.
        python: The Python to run it with.
        pythonpath: Folders put first on the worker's ``PYTHONPATH``.
        timeout: Seconds after which the worker is killed (None: no limit).

    Returns:
        The worker's answer.

    Raises:
        RuntimeError: If the worker fails or gives no answer (with the end of its output).
    """
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([*pythonpath, *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [python, script, WORKER_FLAG], input=json.dumps(task), capture_output=True, text=True, env=env, timeout=timeout
    )
    answers = [line[len(_ANSWER) :] for line in result.stdout.splitlines() if line.startswith(_ANSWER)]
    if result.returncode != 0 or not answers:
        output = (result.stdout + result.stderr)[-4000:]
        raise RuntimeError(f"The worker {python} {script} failed (exit code {result.returncode}):\n{output}")
    return json.loads(answers[-1])


def run_script(main: Callable[[], int], work: Callable[[dict[str, Any]], Any]) -> None:
    """A benchmark script's entry point: with :data:`WORKER_FLAG`, read a task from stdin, do it with ``work`` and
    print the answer on a marked line; else run the benchmark (``main``) and exit with its status."""
    if sys.argv[1:] != [WORKER_FLAG]:
        sys.exit(main())
    answer = work(json.load(sys.stdin))
    print(_ANSWER + json.dumps(answer), flush=True)
