"""Tests of the RecorderManager with a minimal env double (synchronous export, upstream behaviour)."""

import json
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
import torch

from isaaclab.managers import (
    DatasetExportMode,
    RecorderManager,
    RecorderManagerBaseCfg,
    RecorderTerm,
    RecorderTermCfg,
)
from isaaclab.managers.recorder_manager import RecorderManagerBaseCfg as RecorderManagerBaseCfgFromModule
from isaaclab.utils import configclass


class EnvDouble:
    """The attributes the recorder manager reads, and nothing else."""

    def __init__(self, num_envs: int = 4, device: str = "cpu", success_term: bool = False):
        self.num_envs = num_envs
        self.device = device
        self.cfg = SimpleNamespace(
            sim=SimpleNamespace(dt=0.01, render_interval=2),
            decimation=4,
            scene=SimpleNamespace(num_envs=num_envs),
            env_name="Isaac-Double-v0",
        )
        self.step_count = 0
        self.success = torch.zeros(num_envs, dtype=torch.bool)
        if success_term:
            self.termination_manager = SimpleNamespace(active_terms=["time_out", "success"], get_term=self._get_term)

    def _get_term(self, name):
        assert name == "success"
        return self.success


class StepTerm(RecorderTerm):
    def record_pre_step(self):
        self._env.step_count += 1
        return "actions", torch.full((self._env.num_envs, 2), float(self._env.step_count))

    def record_post_step(self):
        return "obs", {"value": torch.arange(self._env.num_envs, dtype=torch.float32).unsqueeze(1)}

    def record_post_physics_decimation_step(self):
        return "physics/substeps", torch.ones(self._env.num_envs, 1)


class ResetTerm(RecorderTerm):
    def __init__(self, cfg, env):
        super().__init__(cfg, env)
        self.reset_calls = []
        self.closed_with = None

    def record_pre_reset(self, env_ids):
        return "pre_reset", torch.full((len(env_ids), 1), 1.0)

    def record_post_reset(self, env_ids):
        return "initial_state", {"robot": {"joint_position": torch.zeros(len(env_ids), 3)}}

    def reset(self, env_ids=None):
        self.reset_calls.append(list(env_ids))

    def close(self, file_path):
        self.closed_with = file_path


class SilentTerm(RecorderTerm):
    """Uses every default callback: records nothing."""


@configclass
class RecorderCfg(RecorderManagerBaseCfg):
    record_step = RecorderTermCfg(class_type=StepTerm)
    record_reset = RecorderTermCfg(class_type=ResetTerm)
    record_nothing = RecorderTermCfg(class_type=SilentTerm)
    disabled_term = None


def make_manager(tmp_path, num_envs=4, env=None, **cfg_changes) -> tuple[RecorderManager, EnvDouble]:
    env = env or EnvDouble(num_envs)
    cfg = RecorderCfg(dataset_export_dir_path=str(tmp_path), dataset_filename="dataset", **cfg_changes)
    return RecorderManager(cfg, env), env


def record_steps(manager: RecorderManager, num_steps: int) -> None:
    for _ in range(num_steps):
        manager.record_pre_step()
        manager.record_post_physics_decimation_step()
        manager.record_post_step()


def read_demos(path) -> dict:
    with h5py.File(path, "r") as file:
        return {name: int(group.attrs["num_samples"]) for name, group in file["data"].items()}


def test_module_paths_match_upstream():
    assert RecorderManagerBaseCfg is RecorderManagerBaseCfgFromModule
    assert [mode.value for mode in DatasetExportMode] == [0, 1, 2, 3]


def test_upstream_defaults_and_async_off_by_default():
    cfg = RecorderManagerBaseCfg()
    assert cfg.dataset_export_dir_path == "/tmp/isaaclab/logs"
    assert cfg.dataset_filename == "dataset"
    assert cfg.dataset_export_mode == DatasetExportMode.EXPORT_ALL
    assert cfg.export_in_record_pre_reset is True and cfg.export_in_close is False
    assert cfg.dataset_compression is True
    assert cfg.async_write is False and cfg.early_cpu_offload is False


@pytest.mark.parametrize("cfg", [None, {}, RecorderManagerBaseCfg()])
def test_empty_config_gives_an_inert_manager(tmp_path, cfg):
    manager = RecorderManager(cfg, EnvDouble())
    assert manager.active_terms == []
    record_steps(manager, 2)
    manager.add_to_episodes("x", torch.zeros(4, 1))
    manager.record_pre_reset(None)
    manager.record_post_reset(None)
    manager.export_episodes()
    assert manager.get_episode(0).is_empty()
    assert manager.exported_successful_episode_count == 0 and manager.exported_failed_episode_count == 0
    assert manager.reset() == {}
    manager.close()
    assert "contains 0 active terms" in str(manager)


def test_terms_are_prepared_and_settings_are_never_terms(tmp_path):
    manager, _ = make_manager(tmp_path)
    assert manager.active_terms == ["record_step", "record_reset", "record_nothing"]
    text = str(manager)
    assert "contains 3 active terms" in text and "record_reset" in text
    manager.close()


def test_wrong_term_config_type_raises(tmp_path):
    @configclass
    class BadCfg(RecorderManagerBaseCfg):
        record_bad = {"class_type": StepTerm}

    with pytest.raises(TypeError, match="record_bad.*RecorderTermCfg"):
        RecorderManager(BadCfg(dataset_export_dir_path=str(tmp_path)), EnvDouble())


def test_term_class_that_is_not_a_recorder_term_raises(tmp_path):
    class NotATerm:
        def __init__(self, cfg, env):
            pass

    @configclass
    class BadCfg(RecorderManagerBaseCfg):
        record_bad = RecorderTermCfg(class_type=NotATerm)

    with pytest.raises(TypeError, match="record_bad.*not of type RecorderTerm"):
        RecorderManager(BadCfg(dataset_export_dir_path=str(tmp_path)), EnvDouble())


def test_dict_config_with_terms_is_rejected():
    with pytest.raises(TypeError, match="RecorderManagerBaseCfg"):
        RecorderManager({"record_step": RecorderTermCfg(class_type=StepTerm)}, EnvDouble())


def test_dataset_file_is_created_in_the_constructor(tmp_path):
    manager, _ = make_manager(tmp_path)
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert json.loads(file["data"].attrs["env_args"])["env_name"] == "Isaac-Double-v0"
    assert not (tmp_path / "dataset_failed.hdf5").exists()
    manager.close()


def test_step_callbacks_record_every_env(tmp_path):
    manager, env = make_manager(tmp_path)
    record_steps(manager, 3)
    for env_id in range(env.num_envs):
        episode = manager.get_episode(env_id)
        assert len(episode.data["actions"]) == 3
        assert torch.equal(episode.data["actions"][2], torch.full((2,), 3.0))
        assert episode.data["obs"]["value"][0].item() == env_id
        assert len(episode.data["physics"]["substeps"]) == 3
    manager.close()


@pytest.mark.parametrize("env_ids", [[1, 3], slice(1, 4, 2), torch.tensor([1, 3])])
def test_env_ids_as_list_slice_or_tensor(tmp_path, env_ids):
    manager, _ = make_manager(tmp_path)
    manager.add_to_episodes("actions", torch.tensor([[10.0], [30.0]]), env_ids)
    assert manager.get_episode(0).is_empty() and manager.get_episode(2).is_empty()
    assert manager.get_episode(1).data["actions"][0].item() == 10.0
    assert manager.get_episode(3).data["actions"][0].item() == 30.0
    manager.set_success_to_episodes(env_ids, torch.tensor([[True], [False]]))
    assert manager.get_episode(1).success is True and manager.get_episode(3).success is False
    manager.export_episodes(env_ids)
    assert read_demos(tmp_path / "dataset.hdf5") == {"demo_0": 1, "demo_1": 1}
    manager.close()


def test_add_to_episodes_checks_rows_and_types(tmp_path):
    manager, _ = make_manager(tmp_path)
    with pytest.raises(ValueError, match="'actions'.*leading dimension 4"):
        manager.add_to_episodes("actions", torch.zeros(3, 2))
    with pytest.raises(TypeError, match="'actions'"):
        manager.add_to_episodes("actions", [0.0] * 4)
    with pytest.raises(IndexError, match="out of range"):
        manager.add_to_episodes("actions", torch.zeros(1, 2), [7])
    manager.add_to_episodes("actions", None)
    assert manager.get_episode(0).is_empty()
    manager.close()


def test_recorded_batches_are_copies(tmp_path):
    manager, _ = make_manager(tmp_path)
    source = torch.zeros(4, 2)
    manager.add_to_episodes("actions", source)
    source.fill_(3.0)
    assert torch.equal(manager.get_episode(0).data["actions"][0], torch.zeros(2))
    manager.close()


def test_pre_and_post_reset_record_for_the_given_envs_and_export(tmp_path):
    manager, _ = make_manager(tmp_path)
    manager.record_post_reset(None)
    record_steps(manager, 2)
    manager.record_pre_reset([0, 2])
    # pre-reset data went into the exported episodes; the reset envs start fresh episodes
    assert manager.get_episode(0).is_empty() and manager.get_episode(2).is_empty()
    assert len(manager.get_episode(1).data["actions"]) == 2
    manager.record_post_reset([0, 2])
    assert len(manager.get_episode(0).data["initial_state"]["robot"]["joint_position"]) == 1
    manager.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        demo = file["data/demo_0"]
        assert demo["pre_reset"].shape == (1, 1)
        assert demo["initial_state/robot/joint_position"].shape == (1, 3)
        assert demo["actions"].shape == (2, 2) and demo.attrs["num_samples"] == 2


def test_pre_reset_takes_success_from_the_success_termination_term(tmp_path):
    env = EnvDouble(success_term=True)
    env.success[:] = torch.tensor([True, False, True, False])
    manager, _ = make_manager(tmp_path, env=env)
    record_steps(manager, 1)
    manager.record_pre_reset(None)
    assert manager.exported_successful_episode_count == 2
    assert manager.exported_failed_episode_count == 2
    manager.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert [bool(file[f"data/demo_{i}"].attrs["success"]) for i in range(4)] == [True, False, True, False]


@pytest.mark.parametrize(
    "force, setting, exported", [(None, True, 4), (None, False, 0), (True, False, 4), (False, True, 0)]
)
def test_pre_reset_export_follows_force_flag_and_setting(tmp_path, force, setting, exported):
    manager, _ = make_manager(tmp_path, export_in_record_pre_reset=setting)
    record_steps(manager, 1)
    manager.record_pre_reset(None, force_export_or_skip=force)
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == exported
    manager.close()
    assert len(read_demos(tmp_path / "dataset.hdf5")) == exported


@pytest.mark.parametrize(
    "mode, main_demos, failed_demos",
    [
        (DatasetExportMode.EXPORT_ALL, 4, None),
        (DatasetExportMode.EXPORT_SUCCEEDED_ONLY, 1, None),
        (DatasetExportMode.EXPORT_SUCCEEDED_FAILED_IN_SEPARATE_FILES, 1, 3),
        (DatasetExportMode.EXPORT_NONE, None, None),
    ],
)
def test_export_modes(tmp_path, mode, main_demos, failed_demos):
    manager, _ = make_manager(tmp_path, dataset_export_mode=mode)
    record_steps(manager, 2)
    manager.set_success_to_episodes([1], torch.tensor([True]))
    manager.export_episodes()
    assert manager.exported_successful_episode_count == 1
    assert manager.exported_failed_episode_count == 3
    assert all(manager.get_episode(i).is_empty() for i in range(4))
    manager.close()
    main, failed = tmp_path / "dataset.hdf5", tmp_path / "dataset_failed.hdf5"
    assert (len(read_demos(main)) if main.exists() else None) == main_demos
    assert (len(read_demos(failed)) if failed.exists() else None) == failed_demos
    if mode == DatasetExportMode.EXPORT_SUCCEEDED_ONLY:
        with h5py.File(main, "r") as file:
            assert bool(file["data/demo_0"].attrs["success"])
            np.testing.assert_array_equal(file["data/demo_0/obs/value"][:, 0], [1.0, 1.0])


def test_export_skips_empty_episodes_and_names_demos_in_order(tmp_path):
    manager, _ = make_manager(tmp_path)
    manager.add_to_episodes("actions", torch.zeros(2, 2), [2, 0])
    manager.export_episodes()
    record_steps(manager, 1)
    manager.export_episodes([3])
    manager.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert sorted(file["data"].keys()) == ["demo_0", "demo_1", "demo_2"]
        assert file["data"].attrs["total"] == 3
        env_args = json.loads(file["data"].attrs["env_args"])
        assert env_args["sim_args"] == {"dt": 0.01, "decimation": 4, "render_interval": 2, "num_envs": 4}


def test_demo_ids_name_demos_and_are_checked(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 1)
    with pytest.raises(ValueError, match="2 entries but 4"):
        manager.export_episodes(demo_ids=[1, 2])
    with pytest.raises(ValueError, match="unique"):
        manager.export_episodes(demo_ids=[1, 1, 2, 3])
    assert not manager.get_episode(0).is_empty()  # nothing was taken by the rejected calls
    manager.export_episodes([0, 1], demo_ids=[10, 20])
    manager.export_episodes([2])
    with pytest.raises(ValueError, match="demo_10"):
        manager.export_episodes([3], demo_ids=[10])
    manager.close()
    assert sorted(read_demos(tmp_path / "dataset.hdf5")) == ["demo_0", "demo_10", "demo_20"]


def test_custom_ep_meta_from_env_cfg_goes_into_env_args(tmp_path):
    env = EnvDouble()
    env.cfg.get_ep_meta = lambda: {"lang": "stack the cubes"}
    manager, _ = make_manager(tmp_path, env=env)
    assert manager.get_ep_meta() == {"lang": "stack the cubes"}
    record_steps(manager, 1)
    manager.export_episodes()
    manager.close()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert json.loads(file["data"].attrs["env_args"])["lang"] == "stack the cubes"


def test_reset_discards_episodes_and_resets_terms(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 2)
    manager.reset([1, 2])
    assert manager.get_episode(1).is_empty() and manager.get_episode(2).is_empty()
    assert not manager.get_episode(0).is_empty()
    reset_term = manager._terms["record_reset"]
    assert reset_term.reset_calls == [[1, 2]]
    manager.reset()
    assert reset_term.reset_calls[-1] == [0, 1, 2, 3]
    manager.close()


def test_close_is_idempotent_closes_terms_and_exports_when_asked(tmp_path):
    manager, _ = make_manager(tmp_path, export_in_close=True)
    record_steps(manager, 2)
    manager.close()
    manager.close()
    assert manager._terms["record_reset"].closed_with == str(tmp_path / "dataset")
    assert len(read_demos(tmp_path / "dataset.hdf5")) == 4
    # the file is closed: it can be opened for writing by another handle
    with h5py.File(tmp_path / "dataset.hdf5", "a") as file:
        assert "data" in file


def test_close_without_export_in_close_drops_nothing_written(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 2)
    manager.export_episodes([0])
    record_steps(manager, 1)
    manager.close()
    assert read_demos(tmp_path / "dataset.hdf5") == {"demo_0": 2}


def test_exported_files_are_readable_by_plain_h5py_while_open(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 3)
    manager.export_episodes()
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert len(file["data"]) == 4
    manager.close()


def test_statistics_count_whole_export_calls(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 2)
    manager.export_episodes()
    stats = manager.writer_statistics
    assert stats.episodes_written == 4 and stats.bytes_written > 0
    assert stats.export_seconds >= stats.submit_seconds > 0
    manager.close()
