# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Tests of the RecorderManager with a minimal env double (synchronous export, upstream behaviour)."""

import json
import re
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

pytestmark = pytest.mark.unit


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
        self.post_reset_ids = []
        self.closed_with = None

    def record_pre_reset(self, env_ids):
        return "pre_reset", torch.full((len(env_ids), 1), 1.0)

    def record_post_reset(self, env_ids):
        self.post_reset_ids.append(env_ids)
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
    # an inert manager has no writer and spent no time exporting
    assert manager.writer_statistics is None and manager.export_seconds == 0.0
    manager.close()
    assert "contains 0 active terms" in str(manager)


def test_terms_are_prepared_and_settings_are_never_terms(tmp_path):
    manager, _ = make_manager(tmp_path)
    assert manager.active_terms == ["record_step", "record_reset", "record_nothing"]
    text = str(manager)
    assert "contains 3 active terms" in text and "record_reset" in text
    # a PrettyTable of the terms, as upstream prints it
    assert "Active Recorder Terms" in text
    lines = text.splitlines()
    assert any(re.fullmatch(r"\|\s*Index\s*\|\s*Name\s*\|", line) for line in lines)
    for index, name in enumerate(manager.active_terms):
        assert any(re.fullmatch(rf"\|\s*{index}\s*\|\s*{name}\s*\|", line) for line in lines), text
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
    with pytest.raises(ValueError, match=re.escape("Length of demo_ids (2) must match length of env_ids (4)")):
        manager.export_episodes(demo_ids=[1, 2])
    with pytest.raises(ValueError, match=re.escape("demo_ids must be unique. Found duplicates: [1]")):
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


def test_record_post_reset_with_none_gives_the_terms_every_env_id(tmp_path):
    manager, _ = make_manager(tmp_path)
    term = manager._terms["record_reset"]
    manager.record_post_reset(None)
    manager.record_post_reset(slice(0, 4, 2))
    manager.record_post_reset([3, 1])
    assert term.post_reset_ids == [[0, 1, 2, 3], [0, 2], [3, 1]]
    assert all(len(manager.get_episode(i).data["initial_state"]["robot"]["joint_position"]) for i in range(4))
    assert len(manager.get_episode(0).data["initial_state"]["robot"]["joint_position"]) == 2
    manager.close()


"""
Environment ids in every form.
"""


def _exported_env_order(path) -> list[int]:
    """The env of each demo (its recorded obs/value), in demo order."""
    with h5py.File(path, "r") as file:
        names = sorted(file["data"].keys(), key=lambda name: int(name.split("_")[1]))
        return [int(file["data"][name]["obs/value"][0, 0]) for name in names]


ENV_ID_FORMS = {
    "list": (lambda: [3, 1], [3, 1]),
    "tuple": (lambda: (3, 1), [3, 1]),
    "range": (lambda: range(1, 4, 2), [1, 3]),
    "slice": (lambda: slice(1, None, 2), [1, 3]),
    "int": (lambda: 2, [2]),
    "numpy_int": (lambda: np.int64(2), [2]),
    "int_tensor": (lambda: torch.tensor([3, 1]), [3, 1]),
    "scalar_tensor": (lambda: torch.tensor(2), [2]),
    "numpy_array": (lambda: np.array([3, 1], dtype=np.int32), [3, 1]),
    "bool_mask_tensor": (lambda: torch.tensor([False, True, False, True]), [1, 3]),
    "bool_mask_numpy": (lambda: np.array([True, False, False, True]), [0, 3]),
    "bool_mask_list": (lambda: [False, False, True, False], [2]),
    "cuda_tensor": (lambda: torch.tensor([3, 1], device="cuda"), [3, 1]),
    "cuda_bool_mask": (lambda: torch.tensor([False, True, False, True], device="cuda"), [1, 3]),
}


def _env_id_form_params():
    params = []
    for name in ENV_ID_FORMS:
        marks = ()
        if name.startswith("cuda"):
            marks = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.mark.parametrize("form", _env_id_form_params())
def test_every_env_ids_form_exports_exactly_those_envs(tmp_path, form):
    make_ids, expected = ENV_ID_FORMS[form]
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 2)
    manager.export_episodes(make_ids())
    for env_id in range(4):
        assert manager.get_episode(env_id).is_empty() == (env_id in expected), env_id
    assert manager.exported_failed_episode_count == len(expected)
    manager.close()
    # the demos are the selected envs' episodes, in the order the ids give, and no other
    assert _exported_env_order(tmp_path / "dataset.hdf5") == expected


@pytest.mark.parametrize("form", _env_id_form_params())
def test_every_env_ids_form_records_and_sets_success_for_exactly_those_envs(tmp_path, form):
    make_ids, expected = ENV_ID_FORMS[form]
    manager, _ = make_manager(tmp_path)
    rows = torch.tensor([[10.0 * (index + 1)] for index in range(len(expected))])
    manager.add_to_episodes("actions", rows, make_ids())
    manager.set_success_to_episodes(make_ids(), torch.ones(len(expected), dtype=torch.bool))
    for env_id in range(4):
        episode = manager.get_episode(env_id)
        if env_id in expected:
            assert episode.data["actions"][0].item() == 10.0 * (expected.index(env_id) + 1)
            assert episode.success is True
        else:
            assert episode.is_empty() and episode.success is None
    manager.reset(make_ids())
    assert manager._terms["record_reset"].reset_calls == [expected]
    assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    manager.close()


@pytest.mark.parametrize(
    "env_ids, error, match",
    [
        (torch.tensor([1.0, 3.0]), TypeError, "dtype float32"),
        (np.array([1.0, 3.0]), TypeError, "dtype float64"),
        ([1.0, 3.0], TypeError, "must be integers"),
        ([1, 2.0], TypeError, "must be integers"),
        (1.0, TypeError, "got float"),
        ("1", TypeError, "got str"),
        (True, TypeError, "bool"),
        ([1, 1], ValueError, "must not repeat"),
        (torch.tensor([2, 0, 2]), ValueError, "must not repeat"),
        ([4], IndexError, "out of range"),
        ([-1], IndexError, "out of range"),
        (torch.tensor([0, 7]), IndexError, "out of range"),
        (torch.tensor([True, False]), ValueError, "one entry per environment"),
    ],
    ids=[
        "float_tensor",
        "float_array",
        "float_list",
        "mixed_list",
        "float",
        "str",
        "bool",
        "repeated",
        "repeated_tensor",
        "too_large",
        "negative",
        "tensor_out_of_range",
        "short_mask",
    ],
)
def test_bad_env_ids_are_rejected_and_nothing_happens(tmp_path, env_ids, error, match):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 1)
    with pytest.raises(error, match=match):
        manager.export_episodes(env_ids)
    with pytest.raises(error, match=match):
        manager.add_to_episodes("actions", torch.zeros(2, 2), env_ids)
    with pytest.raises(error, match=match):
        manager.record_pre_reset(env_ids)
    with pytest.raises(error, match=match):
        manager.reset(env_ids)
    # nothing was exported, recorded or reset by the rejected calls
    for env_id in range(4):
        assert len(manager.get_episode(env_id).data["actions"]) == 1
    assert manager.exported_successful_episode_count + manager.exported_failed_episode_count == 0
    assert manager.writer_statistics.episodes_submitted == 0
    manager.close()
    assert read_demos(tmp_path / "dataset.hdf5") == {}


"""
Record-time checks.
"""


def _assert_each_env_has_steps(manager, key_path, count):
    for env_id in range(manager._env.num_envs):
        node = manager.get_episode(env_id).data
        for part in key_path.split("/"):
            node = node[part]
        assert len(node) == count, (env_id, key_path)


def test_bfloat16_is_rejected_at_record_time_and_nothing_is_recorded(tmp_path):
    manager, _ = make_manager(tmp_path)
    with pytest.raises(TypeError, match=r"'obs/half'.*dtype torch\.bfloat16"):
        manager.add_to_episodes("obs", {"ok": torch.zeros(4, 2), "half": torch.zeros(4, 2, dtype=torch.bfloat16)})
    assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    manager.close()


def test_shape_change_is_rejected_naming_key_env_and_shapes_and_nothing_is_recorded(tmp_path):
    manager, _ = make_manager(tmp_path)
    manager.add_to_episodes("obs", {"a": torch.zeros(4, 1), "b": torch.zeros(4, 3)})
    # a new shape of obs/b for envs 1 and 2: the error names the key, the envs, both shapes, and who holds steps
    message = re.escape(
        "Recorded value for key 'obs/b' of envs [1, 2] has row shape (5,) and dtype torch.float32, but the steps"
        " recorded so far (envs [0, 1, 2, 3]) have row shape (3,) and dtype torch.float32."
    )
    with pytest.raises(ValueError, match=message):
        manager.add_to_episodes("obs", {"a": torch.zeros(2, 1), "b": torch.zeros(2, 5)}, [1, 2])
    _assert_each_env_has_steps(manager, "obs/a", 1)
    _assert_each_env_has_steps(manager, "obs/b", 1)
    with pytest.raises(
        ValueError, match=r"'obs/a' of envs \[0, 1, 2, 3\] has row shape \(1,\) and dtype torch\.float64"
    ):
        manager.add_to_episodes("obs/a", torch.zeros(4, 1, dtype=torch.float64))
    _assert_each_env_has_steps(manager, "obs/a", 1)
    manager.close()


def test_key_used_as_tensor_and_as_group_is_rejected_and_nothing_is_recorded(tmp_path):
    manager, _ = make_manager(tmp_path)
    manager.add_to_episodes("obs/pos", torch.zeros(4, 3))
    with pytest.raises(ValueError, match="Cannot record key 'obs' as a tensor: it is also a group of keys"):
        manager.add_to_episodes("obs", torch.zeros(4, 3))
    with pytest.raises(ValueError, match="Cannot record key 'obs/pos/x': 'obs/pos' is recorded as a tensor"):
        manager.add_to_episodes("obs", {"pos": {"x": torch.zeros(4, 1)}, "new": torch.zeros(4, 1)})
    for env_id in range(4):
        assert list(manager.get_episode(env_id).data["obs"]) == ["pos"]
    _assert_each_env_has_steps(manager, "obs/pos", 1)
    manager.close()


def test_a_term_recording_a_bad_value_fails_the_step_and_names_the_key(tmp_path):
    class HalfTerm(RecorderTerm):
        def record_post_step(self):
            return "obs", {"half": torch.zeros(self._env.num_envs, 2, dtype=torch.bfloat16)}

    @configclass
    class HalfCfg(RecorderManagerBaseCfg):
        record_half = RecorderTermCfg(class_type=HalfTerm)

    manager = RecorderManager(HalfCfg(dataset_export_dir_path=str(tmp_path)), EnvDouble())
    with pytest.raises(TypeError, match=r"'obs/half' of envs \[0, 1, 2, 3\] has dtype torch.bfloat16"):
        manager.record_post_step()
    assert all(manager.get_episode(env_id).is_empty() for env_id in range(4))
    manager.close()


"""
Owned rows, demo ids, closed managers.
"""


def test_each_episode_owns_its_row(tmp_path):
    manager, _ = make_manager(tmp_path)
    batch = torch.arange(4 * 256, dtype=torch.float32).reshape(4, 256)
    manager.add_to_episodes("obs", {"big": batch, "nested": {"x": batch[:, :3]}})
    for env_id in range(4):
        for row in (
            manager.get_episode(env_id).data["obs"]["big"][0],
            manager.get_episode(env_id).data["obs"]["nested"]["x"][0],
        ):
            # the stored row is its own storage: it keeps no other env's row alive
            assert row.untyped_storage().nbytes() == row.nbytes
            assert row.untyped_storage().data_ptr() != batch.untyped_storage().data_ptr()
        assert torch.equal(manager.get_episode(env_id).data["obs"]["big"][0], batch[env_id])
    manager.close()


def test_demo_ids_given_as_tensors_are_checked_like_lists(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 1)
    with pytest.raises(ValueError, match=re.escape("demo_ids must be unique. Found duplicates: [1, 3]")):
        manager.export_episodes(demo_ids=torch.tensor([1, 3, 1, 3]))
    with pytest.raises(ValueError, match=re.escape("demo_ids must be unique. Found duplicates: [5]")):
        manager.export_episodes(demo_ids=np.array([5, 5, 6, 7]))
    with pytest.raises(ValueError, match=re.escape("Length of demo_ids (3) must match length of env_ids (2)")):
        manager.export_episodes(torch.tensor([0, 1]), demo_ids=torch.tensor([1, 2, 3]))
    assert all(not manager.get_episode(env_id).is_empty() for env_id in range(4))
    manager.export_episodes([2, 0], demo_ids=torch.tensor([20, 0]))
    manager.export_episodes([1, 3], demo_ids=np.array([11, 33]))
    manager.close()
    demos = read_demos(tmp_path / "dataset.hdf5")
    assert sorted(demos) == ["demo_0", "demo_11", "demo_20", "demo_33"]
    with h5py.File(tmp_path / "dataset.hdf5", "r") as file:
        assert [int(file[f"data/demo_{i}/obs/value"][0, 0]) for i in (20, 0, 11, 33)] == [2, 0, 1, 3]


def test_export_after_close_raises(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 1)
    manager.export_episodes([0])
    manager.close()
    with pytest.raises(RuntimeError, match="closed"):
        manager.export_episodes()
    with pytest.raises(RuntimeError, match="closed"):
        manager.record_pre_reset([1], force_export_or_skip=True)
    manager.flush()  # nothing left to wait for
    manager.close()
    assert read_demos(tmp_path / "dataset.hdf5") == {"demo_0": 1}
    assert manager.exported_failed_episode_count == 1


def test_statistics_count_whole_export_calls(tmp_path):
    manager, _ = make_manager(tmp_path)
    record_steps(manager, 2)
    manager.export_episodes()
    stats = manager.writer_statistics
    assert stats.episodes_written == 4 and stats.bytes_written > 0
    # the manager times whole export calls itself; the writer's statistics have no export time any more
    assert manager.export_seconds >= stats.submit_seconds > 0
    assert not hasattr(stats, "export_seconds")
    manager.close()
