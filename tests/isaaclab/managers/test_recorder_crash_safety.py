# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Subprocess tests of asynchronous export: interpreter exit without ``close()``, and SIGKILL at random moments.

These run real processes with the recorder's real writer thread and real HDF5 files (workers: ``_async_*_worker.py``
next to this file).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

import _async_crash_worker as crash_worker
import _async_shutdown_worker as shutdown_worker
import h5py
import numpy as np
import pytest
from _async_helpers import assert_demo_equals, demo_names, expected_demo

pytestmark = pytest.mark.unit

HERE = os.path.dirname(os.path.abspath(__file__))


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    # one torch thread per worker: the test machine may have 2 cores
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


"""
5. Shutdown without close().
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_episodes_are_written_when_the_program_ends_without_close(tmp_path):
    modes = {"return": 0, "uncaught": 1}
    processes = {}
    for mode in modes:
        # both workers run at once: each spends most of its time importing torch
        processes[mode] = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "_async_shutdown_worker.py"), str(tmp_path / mode), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_worker_env(),
        )
    outputs = {}
    try:
        for mode, process in processes.items():
            outputs[mode] = process.communicate(timeout=100)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    total = shutdown_worker.NUM_ENVS * shutdown_worker.ROUNDS
    for mode, expected_code in modes.items():
        stdout, stderr = outputs[mode]
        assert processes[mode].returncode == expected_code, f"{mode}: exit {processes[mode].returncode}\n{stderr}"
        if mode == "uncaught":
            assert "RuntimeError: deliberate uncaught error after exporting" in stderr
        else:
            assert "Traceback" not in stderr, stderr
        report = json.loads(stdout.strip().splitlines()[-1])
        assert report["submitted"] == total
        # the writer really had work left when the program ended (else this test would prove nothing)
        assert report["written"] < total, report

        path = tmp_path / mode / "dataset.hdf5"
        assert demo_names(path) == [f"demo_{i}" for i in range(total)], f"{mode}: episodes lost at exit"
        for round_index, steps in enumerate(report["rounds"]):
            for env_id in range(shutdown_worker.NUM_ENVS):
                expected = expected_demo(steps, env_id, initial_reset=round_index + 1)
                assert_demo_equals(path, f"demo_{shutdown_worker.NUM_ENVS * round_index + env_id}", expected)
        with h5py.File(path, "r") as file:
            assert file["data"].attrs["total"] == total * len(report["rounds"][0])
            assert [bool(file[f"data/demo_{i}"].attrs["success"]) for i in range(4)] == [True, False, True, False]


"""
6. SIGKILL at random moments.
"""

TRIALS = int(os.environ.get("ISAACLAB_CRASH_TEST_TRIALS", "8"))
KILL_WINDOW_S = 0.8
"""Kills land uniformly (stratified over the trials) in this many seconds after the child's first export."""


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _next_line(lines: queue.Queue, timeout_s: float = 30.0) -> str:
    line = lines.get(timeout=timeout_s)
    assert line is not None, "the crash worker ended early"
    return line


def _dataset_names(group: h5py.Group) -> list[str]:
    names: list[str] = []
    group.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return names


def _check_killed_file(path, min_demos: int, context: str) -> int:
    """Check a file left by a killed writer; returns its number of demos.

    Every demo must be complete: all datasets present with ``num_samples`` rows (one for the initial state), the
    attributes present, every chunk readable, and the actions right. The first and the last two demos (the last ones
    were written just before the kill) are compared in full.
    """
    assert os.path.exists(path), f"{context}: no file"
    with h5py.File(path, "r") as file:  # plain h5py, no special flags
        data = file["data"]
        json.loads(data.attrs["env_args"])
        names = sorted(data.keys(), key=lambda name: int(name.split("_")[1]))
        # demos are written in order and published only when complete: a gap-free prefix
        assert names == [f"demo_{i}" for i in range(len(names))], f"{context}: demos {names}"
        assert len(names) >= min_demos, f"{context}: {len(names)} demos, but the writer had flushed {min_demos}"
        full_check = {0, len(names) - 2, len(names) - 1}
        for index, name in enumerate(names):
            demo = data[name]
            round_index, env_id = divmod(index, crash_worker.NUM_ENVS)
            where = f"{context}: {name}"
            assert demo.attrs["num_samples"] == crash_worker.STEPS, f"{where} attrs {dict(demo.attrs)}"
            assert bool(demo.attrs["success"]) == (env_id == 0), f"{where} attrs {dict(demo.attrs)}"
            steps = list(range(crash_worker.STEPS * round_index + 1, crash_worker.STEPS * (round_index + 1) + 1))
            expected = (
                expected_demo(
                    steps, env_id, crash_worker.IMAGE_SIZE, crash_worker.NUM_CAMERAS, initial_reset=round_index + 1
                )
                if index in full_check
                else None
            )
            found = _dataset_names(demo)
            assert sorted(found) == EXPECTED_DATASETS, f"{where}: datasets {sorted(found)}"
            for key in found:
                values = demo[key][()]  # decompresses every chunk
                rows = 1 if key.startswith("initial_state") else crash_worker.STEPS
                assert values.shape[0] == rows, f"{where}/{key}: shape {values.shape}"
                if expected is not None:
                    np.testing.assert_array_equal(values, expected[key], err_msg=f"{where}/{key}")
            np.testing.assert_array_equal(demo["actions"][:, 0], steps, err_msg=f"{where}/actions")
            np.testing.assert_array_equal(demo["actions"][:, 1], env_id, err_msg=f"{where}/actions")
        if names:
            assert data.attrs["total"] == crash_worker.STEPS * len(names), f"{context}: total {data.attrs['total']}"
    return len(names)


EXPECTED_DATASETS = sorted(expected_demo([1], 0, 2, crash_worker.NUM_CAMERAS, initial_reset=1))


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_files_survive_sigkill_at_random_moments(tmp_path):
    seed = int(os.environ.get("ISAACLAB_CRASH_TEST_SEED", int.from_bytes(os.urandom(4), "little")))
    rng = random.Random(seed)
    # stratified: one kill time in each slice of the window, in random order
    delays = [KILL_WINDOW_S * (slot + rng.random()) / (TRIALS - 1) for slot in range(TRIALS - 1)]
    rng.shuffle(delays)
    delays.insert(0, 0.0)

    process = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "_async_crash_worker.py"), str(tmp_path), str(TRIALS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_worker_env(),
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    child_pid = None
    results = []
    try:
        for trial in range(TRIALS):
            context = f"trial {trial} (seed {seed}, kill after {delays[trial]:.3f} s)"
            process.stdin.write("go\n")
            process.stdin.flush()
            kind, number, child_pid = _next_line(lines, 60).split()
            assert (kind, int(number)) == ("pid", trial), context
            child_pid = int(child_pid)
            assert _next_line(lines).split() == ["started", str(trial)], context
            # trial 0 is killed at once (a file with no demo yet); the others at a random moment after their first
            # export, so that a loaded machine does not turn every trial into an early kill
            pending = []
            if trial > 0:
                pending.append(_next_line(lines))
                time.sleep(delays[trial])
            os.kill(child_pid, signal.SIGKILL)
            child_pid = None

            # everything the child printed came before the kill: take the last flushed count it reported
            last_written, rounds = 0, 0
            while True:
                words = (pending.pop(0) if pending else _next_line(lines)).split()
                if words[0] == "exit":
                    status = int(words[2])
                    break
                assert words[0] == "written" and int(words[1]) == trial, f"{context}: unexpected line {words}"
                last_written, rounds = int(words[2]), int(words[3]) + 1
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"{context}: status {status}"
            path = tmp_path / f"trial_{trial}" / "dataset.hdf5"
            found = _check_killed_file(path, last_written, context)
            assert found <= crash_worker.NUM_ENVS * (rounds + 1), context
            results.append((delays[trial], rounds, last_written, found))
        assert _next_line(lines).split() == ["done"]
    finally:
        process.stdin.close()
        if child_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child_pid, signal.SIGKILL)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, process.stderr.read()

    # the kills hit running exports: most trials had demos in the file, and some had episodes still queued
    assert sum(found > 0 for _, _, _, found in results) >= TRIALS // 2, f"seed {seed}: {results}"
    assert any(rounds * crash_worker.NUM_ENVS > last for _, rounds, last, _ in results), f"seed {seed}: {results}"
