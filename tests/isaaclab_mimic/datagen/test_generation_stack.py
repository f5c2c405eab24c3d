"""End-to-end generation on the embedded cube-stacking task: 2 envs, a real recorder and a real HDF5 file."""

from __future__ import annotations

import gymnasium as gym
import h5py
import numpy as np
import pytest
import torch

import isaaclab_mimic.envs  # noqa: F401  (registers the Mimic tasks)
from isaaclab_mimic.datagen import generation
from isaaclab_mimic.tools.replay import replay_demos

pytestmark = pytest.mark.slow

TASK = "Isaac-Stack-Cube-Gripper-IK-Rel-Mimic-v0"
NUM_TRIALS = 3


@pytest.fixture(scope="module")
def source_file(annotated_source_dataset) -> str:
    """A small annotated source dataset (scripted expert demos, shared by the session)."""
    return annotated_source_dataset


def generate(source_file: str, output_dir: str, async_write: bool) -> tuple[dict, str]:
    """Run a seeded generation of NUM_TRIALS demos on 2 envs; returns the counts and the output file."""
    env_cfg, success_term = generation.setup_env_config(
        TASK,
        output_dir,
        "generated",
        num_envs=2,
        device="cpu",
        generation_num_trials=NUM_TRIALS,
        async_write=async_write,
    )
    env_cfg.seed = 1
    torch.manual_seed(1)
    env = gym.make(TASK, cfg=env_cfg).unwrapped
    try:
        env.reset()
        components = generation.setup_async_generation(env, 2, source_file, success_term)
        try:
            counts = generation.env_loop(
                env,
                components["reset_queue"],
                components["action_queue"],
                components["info_pool"],
                components["event_loop"],
                progress_callback=lambda *counts: None,
            )
        finally:
            components["event_loop"].close()
    finally:
        env.close()
    return counts, f"{output_dir}/generated.hdf5"


@pytest.fixture(scope="module")
def async_run(source_file, tmp_path_factory) -> tuple[dict, str]:
    """A generation run that exports through the background writer."""
    return generate(source_file, str(tmp_path_factory.mktemp("async")), async_write=True)


def read_demos(path: str) -> dict[str, dict[str, np.ndarray]]:
    """Every dataset and attribute of every demo, keyed by demo name and dataset path ("@" + attribute name)."""
    with h5py.File(path, "r") as file:
        return {name: read_group(group) for name, group in file["data"].items()}


def read_group(group: h5py.Group) -> dict[str, np.ndarray]:
    arrays = {f"@{key}": value for key, value in group.attrs.items()}

    def add_dataset(key: str, item: h5py.Dataset | h5py.Group) -> None:
        if isinstance(item, h5py.Dataset):
            arrays[key] = item[()]

    group.visititems(add_dataset)
    return arrays


def test_generation_on_two_envs_writes_successful_replayable_demos(async_run):
    counts, path = async_run
    assert counts["num_success"] == NUM_TRIALS
    demos = read_demos(path)
    assert sorted(demos) == [f"demo_{i}" for i in range(NUM_TRIALS)]
    for arrays in demos.values():
        assert arrays["@success"]
        actions = arrays["actions"]
        assert actions.dtype == np.float32 and actions.shape == (arrays["@num_samples"], 7)
        # a generated demo spans all four subtasks of the source demos, and the recorder saw every step
        assert len(actions) > 50
        assert arrays["obs/eef_pos"].shape == (len(actions), 3)
        assert "initial_state/rigid_object/cube_1/root_pose" in arrays
    # the recorded actions reproduce the successes when replayed from the recorded initial states
    succeeded, replayed = replay_demos(TASK, path, num_envs=NUM_TRIALS, log=lambda line: None)
    assert (succeeded, replayed) == (NUM_TRIALS, NUM_TRIALS)


def test_seeded_generation_is_deterministic_across_sync_and_async_export(source_file, async_run, tmp_path):
    sync_counts, sync_path = generate(source_file, str(tmp_path / "sync"), async_write=False)
    async_counts, async_path = async_run
    assert sync_counts == async_counts
    sync_demos, async_demos = read_demos(sync_path), read_demos(async_path)
    assert sync_demos.keys() == async_demos.keys()
    for name, arrays in sync_demos.items():
        assert arrays.keys() == async_demos[name].keys()
        for key, value in arrays.items():
            np.testing.assert_array_equal(value, async_demos[name][key], err_msg=f"{name}/{key}")
