"""The record / annotate / replay scripts end to end, as real subprocesses, and their bad-input errors."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys

import h5py
import numpy as np
import pytest

from isaaclab_mimic.tools.cli import ToolError
from isaaclab_mimic.tools.record import record_demos
from isaaclab_mimic.tools.replay import replay_demos

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts", "imitation_learning", "isaaclab_mimic")
TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, os.path.join(SCRIPTS, name), *args], capture_output=True, text=True, timeout=240, cwd=ROOT
    )


@pytest.fixture(scope="module")
def source_dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("demos") / "source.hdf5"
    result = run_script(
        "record_demos.py", "--task", TASK, "--teleop_device", "scripted", "--num_demos", "2", "--num_envs", "2",
        "--dataset_file", str(path), "--seed", "3", "--device", "cpu", "--headless",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Recorded 2 successful demos" in result.stdout
    return path


@pytest.fixture(scope="module")
def annotated_dataset(source_dataset):
    path = source_dataset.parent / "annotated.hdf5"
    result = run_script(
        "annotate_demos.py", "--auto", "--task", TASK, "--input_file", str(source_dataset), "--output_file", str(path)
    )
    assert result.returncode == 0, result.stderr
    assert "Successful task completions: 2" in result.stdout
    return path


@pytest.mark.slow
def test_record_writes_successful_demos_in_the_dataset_layout(source_dataset):
    with h5py.File(source_dataset, "r") as file:
        data = file["data"]
        assert sorted(data) == ["demo_0", "demo_1"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == TASK and env_args["sim_args"]["num_envs"] == 2
        demo = data["demo_0"]
        steps = demo["actions"].shape[0]
        assert demo.attrs["success"] and demo.attrs["num_samples"] == steps and 50 < steps < 400
        assert demo["obs/eef_pos"].shape == (steps, 3)
        assert demo["states/rigid_object/cube_2/root_pose"].shape == (steps, 7)
        assert demo["initial_state/articulation/robot/joint_position"].shape == (1, 2)
        assert data.attrs["total"] == sum(data[name]["actions"].shape[0] for name in data)


@pytest.mark.slow
def test_annotate_adds_datagen_info(annotated_dataset, source_dataset):
    with h5py.File(annotated_dataset, "r") as file, h5py.File(source_dataset, "r") as source:
        for name in ("demo_0", "demo_1"):
            demo = file["data"][name]
            steps = demo["actions"].shape[0]
            np.testing.assert_array_equal(demo["actions"][()], source["data"][name]["actions"][()])
            info = demo["obs/datagen_info"]
            assert info["eef_pose/gripper"].shape == (steps, 4, 4)
            assert info["target_eef_pose/gripper"].shape == (steps, 4, 4)
            assert sorted(info["object_pose"]) == ["cube_1", "cube_2", "cube_3"]
            assert info["object_pose/cube_1"].shape == (steps, 4, 4)
            first = {}
            for signal in ("grasp_1", "stack_1", "grasp_2"):
                values = info[f"subtask_term_signals/{signal}"][()]
                assert values.shape == (steps,) and set(np.unique(values)) <= {0.0, 1.0}
                first[signal] = int(np.argmax(values > 0.5))
            assert 0 < first["grasp_1"] < first["stack_1"] < first["grasp_2"]
            # the target of each step is where the TCP is at the start of the next one
            np.testing.assert_allclose(info["target_eef_pose/gripper"][:-1], info["eef_pose/gripper"][1:], atol=1e-5)


@pytest.mark.slow
def test_replay_reports_that_the_demos_still_succeed(annotated_dataset):
    result = run_script("replay_demos.py", "--task", TASK, "--dataset_file", str(annotated_dataset), "--num_envs", "2")
    assert result.returncode == 0, result.stderr
    assert "2/2 demos succeeded on replay." in result.stdout


@pytest.mark.slow
def test_bad_input_in_a_subprocess_gives_a_clear_error_without_traceback(tmp_path):
    result = run_script("record_demos.py", "--task", "Isaac-Nope-v0", "--dataset_file", str(tmp_path / "x.hdf5"))
    assert result.returncode == 1
    assert "Error: Unknown task 'Isaac-Nope-v0'. Registered tasks: " in result.stderr
    assert TASK in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.hdf5").exists()


@pytest.mark.parametrize(
    "script, args, message, status",
    [
        ("replay_demos.py", ["--dataset_file", "{tmp}/missing.hdf5"], "does not exist", 1),
        (
            "annotate_demos.py",
            ["--auto", "--input_file", "{tmp}/missing.hdf5", "--output_file", "{tmp}/o"],
            "not exist",
            1,
        ),
        ("annotate_demos.py", ["--input_file", "{source}", "--output_file", "{tmp}/o"], "pass --auto", 1),
        ("record_demos.py", ["--num_envs", "0"], "expected a positive integer", 2),
        ("replay_demos.py", ["--num_envs", "two"], "expected a positive integer", 2),
        ("record_demos.py", ["--dataset_file", "{source}"], "already exists", 1),
        ("annotate_demos.py", ["--auto", "--input_file", "{source}", "--output_file", "{source}"], "already exists", 1),
    ],
    ids=[
        "missing_dataset",
        "missing_input",
        "no_auto",
        "zero_num_envs",
        "text_num_envs",
        "existing_output",
        "existing_annotated",
    ],
)
def test_bad_input_gives_a_clear_error(script, args, message, status, tmp_path, source_dataset, monkeypatch, capsys):
    args = [arg.format(tmp=tmp_path, source=source_dataset) for arg in args]
    monkeypatch.setattr(sys, "argv", [script, *args])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(os.path.join(SCRIPTS, script), run_name="__main__")
    assert exit_info.value.code == status
    assert message in capsys.readouterr().err


def test_library_errors_for_other_bad_inputs(tmp_path):
    (tmp_path / "not_hdf5.hdf5").write_text("hello")
    with pytest.raises(ToolError, match="Cannot read"):
        replay_demos(TASK, str(tmp_path / "not_hdf5.hdf5"))
    with pytest.raises(ToolError, match="--teleop_device"):
        record_demos(TASK, 1, str(tmp_path / "a.hdf5"), teleop_device="keyboard")
    with pytest.raises(ToolError, match="--enable_cameras"):
        record_demos("Isaac-Stack-Cube-Gripper-IK-Rel-Visuomotor-Mimic-v0", 1, str(tmp_path / "b.hdf5"))
    assert not (tmp_path / "a.hdf5").exists() and not (tmp_path / "b.hdf5").exists()
