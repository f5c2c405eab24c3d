# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""generate_dataset ended early through a GenerationStop, alone and as a distributed worker's job (in process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import h5py
import pytest
import torch

from isaaclab_mimic.datagen.dataset_generation import GenerationStop, generate_dataset
from isaaclab_mimic.datagen.generation_worker import GenerationSettings, GenerationWorker, WorkerJob

pytestmark = pytest.mark.slow

TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"


@pytest.fixture
def torch_threads() -> Iterator[None]:
    """Restore torch's CPU threads, which a CPU worker sets to its share."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def num_demos(path: str | Path) -> int:
    with h5py.File(path, "r") as file:
        return len(file["data"])


def test_a_stop_requested_before_the_loop_ends_it_before_its_first_step(annotated_source_dataset, tmp_path):
    stop = GenerationStop()
    stop.request()
    loop_starts = []
    summary = generate_dataset(
        TASK,
        annotated_source_dataset,
        str(tmp_path / "stopped"),
        generation_num_trials=5,
        seed=1,
        show_progress=False,
        stop=stop,
        on_loop_start=lambda: loop_starts.append(time.perf_counter()),
    )
    assert stop.requested and len(loop_starts) == 1
    assert (summary.num_success, summary.num_failures, summary.num_attempts) == (0, 0, 0)
    assert summary.output_file == str(tmp_path / "stopped.hdf5") and num_demos(summary.output_file) == 0
    stop.request()  # after the job: nothing to stop, and no error


def test_a_worker_stopped_from_another_thread_keeps_its_demos(annotated_source_dataset, tmp_path, torch_threads):
    settings = GenerationSettings(
        task=TASK,
        input_file=annotated_source_dataset,
        num_envs=1,
        device="cpu",
        torch_threads=1,
        max_num_failures=50,
        dataset_compression=True,
        async_write=True,
        early_cpu_offload=False,
    )
    job = WorkerJob(index=3, num_trials=50, seed=5, shard_dir=str(tmp_path))
    worker = GenerationWorker(settings, job)
    results, errors = [], []

    def run() -> None:
        try:
            results.append(worker.run())
        except BaseException as error:  # reported by the test
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while thread.is_alive() and worker.progress().demos < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    running = worker.progress()
    worker.stop()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors, errors
    assert running.demos >= 1 and running.setup_seconds > 0 and running.seconds > 0
    final = results[0]
    assert 1 <= final.demos < job.num_trials and final.attempts >= final.demos
    assert final.setup_seconds == running.setup_seconds and final.seconds >= running.seconds
    assert worker.progress().seconds == final.seconds  # the clock stopped with the job
    assert num_demos(job.shard_file) == final.demos
    worker.stop()  # after the run: no error
