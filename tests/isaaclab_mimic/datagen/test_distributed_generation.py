# Copyright (c) 2024-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: Apache-2.0

"""Distributed generation on Ray: the split, the seeds, Ray as an extra, settings, and faults with real worker
processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from isaaclab_mimic.datagen.dataset_merge import merge_dataset_paths
from isaaclab_mimic.datagen.distributed_generation import generate_distributed, split_trials, worker_seed
from isaaclab_mimic.datagen.distributed_summary import DistributedGenerationError, WorkerStatus

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = REPO_ROOT / "scripts" / "imitation_learning" / "isaaclab_mimic"
TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
HANG_GUARD_SECONDS = 120
"""How long a subprocess may take before the test fails as hung (not a speed requirement)."""


@pytest.mark.parametrize(
    "total, num_workers, shares",
    [(10, 2, [5, 5]), (10, 3, [4, 3, 3]), (7, 4, [2, 2, 2, 1]), (3, 5, [1, 1, 1]), (1, 1, [1])],
)
def test_split_trials_is_even_and_adds_up(total: int, num_workers: int, shares: list[int]) -> None:
    assert split_trials(total, num_workers) == shares
    assert sum(split_trials(total, num_workers)) == total


def test_split_trials_refuses_nothing_to_do() -> None:
    with pytest.raises(ValueError):
        split_trials(0, 2)
    with pytest.raises(ValueError):
        split_trials(5, 0)


def test_worker_seeds_are_distinct_and_start_at_the_run_seed() -> None:
    assert worker_seed(7, 0) == 7
    assert len({worker_seed(7, index) for index in range(64)}) == 64


def test_without_ray_the_script_names_the_extra_to_install_and_installs_nothing(tmp_path: Path) -> None:
    """A Python where ``import ray`` fails (a package that raises, first on the path): a clear error, exit 1."""
    (tmp_path / "no_ray" / "ray").mkdir(parents=True)
    (tmp_path / "no_ray" / "ray" / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'ray'\")\n")
    (tmp_path / "source.hdf5").touch()
    args = ["--task", TASK, "--input_file", str(tmp_path / "source.hdf5"), "--output_file", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "no_ray"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "generate_dataset.py"), *args, "--num_workers", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG_GUARD_SECONDS,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "Error: Distributed generation runs on Ray, which is not installed." in result.stderr
    assert "pip install 'isaaclab_mimic[ray]'" in result.stderr
    assert "installing" not in result.stdout.lower()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["no_ray", "source.hdf5"]


def test_ray_is_a_declared_extra_that_the_test_extra_installs() -> None:
    pyproject = (REPO_ROOT / "source" / "isaaclab_mimic" / "pyproject.toml").read_text()
    assert '\nray = ["ray==2.60.0"]\n' in pyproject and '\ntest = ["isaaclab_mimic[ray]"]\n' in pyproject


def test_existing_outputs_and_leftover_shards_are_refused(annotated_source_dataset: str, tmp_path: Path) -> None:
    (tmp_path / "done.hdf5").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="done.hdf5' already exists"):
        generate_distributed(TASK, annotated_source_dataset, str(tmp_path / "done.hdf5"), num_workers=2)
    (tmp_path / "interrupted_shards").mkdir()
    with pytest.raises(FileExistsError, match="merge it with scripts/tools/merge_hdf5_datasets.py"):
        generate_distributed(TASK, annotated_source_dataset, str(tmp_path / "interrupted"), num_workers=2)
    with pytest.raises(FileNotFoundError, match="missing.hdf5"):
        generate_distributed(TASK, str(tmp_path / "missing.hdf5"), str(tmp_path / "out"), num_workers=2)
    with pytest.raises(ValueError, match="dataset_compression_threads must be positive, got 0"):
        generate_distributed(
            TASK, annotated_source_dataset, str(tmp_path / "out"), num_workers=2, dataset_compression_threads=0
        )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["done.hdf5", "interrupted_shards"]


def test_more_workers_than_the_cluster_can_run_is_refused(ray_cluster: str, annotated_source_dataset: str, tmp_path):
    with pytest.raises(ValueError, match="3 workers on 'cpu' need 3 CPUs, but the Ray cluster has 2"):
        generate_distributed(TASK, annotated_source_dataset, str(tmp_path / "out"), 3, generation_num_trials=3)
    assert not list(tmp_path.iterdir())


def assert_same_demo(a: h5py.Group, b: h5py.Group) -> None:
    """Same attributes and values, recursively."""
    assert dict(a.attrs) == dict(b.attrs)
    assert set(a) == set(b)
    for key in a:
        if isinstance(a[key], h5py.Group):
            assert_same_demo(a[key], b[key])
        else:
            np.testing.assert_array_equal(a[key][()], b[key][()])


@pytest.mark.slow
def test_a_killed_worker_keeps_its_demos_and_its_share_is_rescheduled(
    ray_cluster: str, annotated_source_dataset: str, tmp_path: Path
) -> None:
    output = tmp_path / "out.hdf5"
    killed_shard = tmp_path / "killed_shard.hdf5"
    killed_pids: list[int] = []

    def kill_worker_0_after_its_first_demo(statuses: list[WorkerStatus]) -> None:
        first = statuses[0]
        if not killed_pids and first.progress is not None and first.progress.demos >= 1:
            os.kill(first.progress.pid, signal.SIGKILL)
            killed_pids.append(first.progress.pid)
        if first.state == "died" and not killed_shard.exists():
            shutil.copy(first.job.shard_file, killed_shard)  # what the driver merges from it

    lines: list[str] = []
    summary = generate_distributed(
        TASK,
        annotated_source_dataset,
        str(output),
        num_workers=2,
        generation_num_trials=4,
        show_progress=False,
        status_callback=kill_worker_0_after_its_first_demo,
        log=lines.append,
    )

    dead, other, replacement = summary.workers
    assert killed_pids == [dead.progress.pid]
    with pytest.raises(ProcessLookupError):
        os.kill(killed_pids[0], 0)
    assert (dead.state, other.state, replacement.state) == ("died", "done", "done")
    assert other.progress.compression_threads == replacement.progress.compression_threads == 1  # one CPU each
    kept = dead.kept_demos
    assert kept >= 1 and dead.rescheduled_as == replacement.job.index == 2
    assert replacement.job.num_trials == dead.job.num_trials - kept == 2 - kept
    assert len({status.job.seed for status in summary.workers}) == 3
    assert summary.outcome == "complete" and summary.num_demos == 4
    assert f"its remaining {2 - kept} demos were rescheduled on worker 2" in summary.message
    assert summary.report() in lines
    with h5py.File(output, "r") as merged, h5py.File(killed_shard, "r") as shard:
        assert sorted(merged["data"]) == ["demo_0", "demo_1", "demo_2", "demo_3"]
        for index in range(kept):
            assert_same_demo(shard[f"data/demo_{index}"], merged[f"data/demo_{index}"])
    assert not (tmp_path / "out_shards").exists()


@pytest.mark.slow
def test_a_raising_worker_stops_the_run_with_a_clear_error(
    ray_cluster: str, tmp_path: Path, annotated_source_dataset: str
) -> None:
    not_a_dataset = tmp_path / "notes.hdf5"
    not_a_dataset.write_text("not a dataset")
    output = tmp_path / "out.hdf5"
    lines: list[str] = []
    with pytest.raises(
        DistributedGenerationError, match=r"^Worker \d failed \(OSError: .*\); the run stopped"
    ) as error:
        generate_distributed(
            TASK, str(not_a_dataset), str(output), num_workers=2, generation_num_trials=2, show_progress=False,
            log=lines.append,
        )  # fmt: skip

    summary = error.value.summary
    assert summary.outcome == "failed" and summary.num_demos == 0
    assert {status.state for status in summary.workers} <= {"failed", "stopped"}
    assert any(status.state == "failed" and status.error.startswith("OSError") for status in summary.workers)
    assert summary.report() in lines and "failed" in summary.report()
    with h5py.File(output, "r") as merged:
        assert len(merged["data"]) == 0 and merged["data"].attrs["total"] == 0
    assert not (tmp_path / "out_shards").exists()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["a corrupt demo", "not a dataset"])
def test_shards_that_cannot_be_merged_are_kept_and_named(
    ray_cluster: str, annotated_source_dataset: str, tmp_path: Path, damage: str
) -> None:
    """A shard with a corrupt demo stops the merge (an error with the command that merges the kept shards); a shard
    that is not a dataset at all is left out, named in the summary, and kept."""
    output = tmp_path / "out.hdf5"
    damaged: list[str] = []

    def damage_the_first_finished_shard(statuses: list[WorkerStatus]) -> None:
        for status in statuses:
            if status.state == "done" and not damaged:  # its process has ended: the shard is closed
                if damage == "a corrupt demo":
                    with h5py.File(status.job.shard_file, "r+") as shard:
                        shard["data/demo_0/obs/lost"] = h5py.SoftLink("/nowhere")
                else:
                    Path(status.job.shard_file).write_bytes(b"not a dataset")
                damaged.append(status.job.shard_file)

    def generate() -> Any:
        return generate_distributed(
            TASK, annotated_source_dataset, str(output), num_workers=2, generation_num_trials=2, show_progress=False,
            status_callback=damage_the_first_finished_shard, log=lambda line: None,
        )  # fmt: skip

    shard_dir = tmp_path / "out_shards"
    if damage == "not a dataset":
        summary = generate()
        assert summary.outcome == "complete" and summary.num_demos == 1
        assert f"left out of the merge and kept in '{shard_dir}': {Path(damaged[0]).name}." in summary.message
        assert sorted(path.name for path in shard_dir.iterdir()) == ["shard_0.hdf5", "shard_1.hdf5"]
        with h5py.File(output, "r") as merged:
            assert list(merged["data"]) == ["demo_0"]
        return
    with pytest.raises(DistributedGenerationError) as error:
        generate()
    message = str(error.value)
    assert message.startswith(f"The shards could not be merged: Demo 'demo_0' of '{damaged[0]}' cannot be read")
    assert f"They are kept in '{shard_dir}'" in message and "--skip_bad_demos" in message
    assert error.value.summary.outcome == "merge failed" and error.value.summary.merge is None
    assert not output.exists()
    assert sorted(path.name for path in shard_dir.iterdir()) == ["shard_0.hdf5", "shard_1.hdf5"]
    (result,) = merge_dataset_paths([str(shard_dir)], str(output), skip_bad_demos=True)
    assert result.num_demos == 1 and [bad.input_file for bad in result.skipped] == damaged


@pytest.mark.slow
def test_lerobot_shards_are_recovered_and_merged(
    ray_cluster: str, annotated_source_dataset: str, tmp_path: Path
) -> None:
    """With the LeRobot format each worker writes a LeRobot shard folder; the shard of a worker killed mid-run is
    recovered (its complete episodes kept), its share rescheduled, and the shards merged into one LeRobot dataset."""
    from isaaclab.utils.datasets.lerobot import LeRobotDatasetFileHandler

    killed_pids: list[int] = []

    def kill_worker_0_after_its_first_demo(statuses: list[WorkerStatus]) -> None:
        first = statuses[0]
        if not killed_pids and first.progress is not None and first.progress.demos >= 1:
            os.kill(first.progress.pid, signal.SIGKILL)
            killed_pids.append(first.progress.pid)

    summary = generate_distributed(
        TASK,
        annotated_source_dataset,
        str(tmp_path / "out.hdf5"),
        num_workers=2,
        generation_num_trials=4,
        async_write=True,
        show_progress=False,
        status_callback=kill_worker_0_after_its_first_demo,
        log=lambda line: None,
        dataset_format="lerobot",
    )
    dead, other, replacement = summary.workers
    assert (dead.state, other.state, replacement.state) == ("died", "done", "done")
    assert dead.kept_demos >= 1 and replacement.job.num_trials == 2 - dead.kept_demos
    assert summary.outcome == "complete" and summary.num_demos == 4
    assert summary.output_file == str(tmp_path / "out")
    reader = LeRobotDatasetFileHandler()
    reader.open(summary.output_file)
    assert reader.get_num_episodes() == 4
    lengths = [len(reader.load_episode(f"demo_{index}").data["actions"]) for index in range(4)]
    assert all(length > 0 for length in lengths)
    assert not (tmp_path / "out_shards").exists()
