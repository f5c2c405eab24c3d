# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Shared helpers of the asynchronous-export tests: an env double, recorder terms, instrumented file handlers and
readers of whole HDF5 files.

The module is imported by the tests (``conftest.py`` puts this folder on ``sys.path``) and by the worker scripts
that the subprocess tests run (``_async_*_worker.py``, which find it next to themselves).
"""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace
from typing import Any

import h5py
import numpy as np
import torch

from isaaclab.managers import RecorderManager, RecorderManagerBaseCfg, RecorderTerm, RecorderTermCfg
from isaaclab.utils import configclass
from isaaclab.utils.datasets import HDF5DatasetFileHandler

ENV_NAME = "Isaac-AsyncDouble-v0"
ACTION_DIM = 3
JOINTS = 4

"""
The env double.
"""


class DataEnv:
    """The attributes the recorder manager reads, plus buffers that :meth:`advance` rewrites in place.

    Like a simulator, the env owns one tensor per signal and overwrites it every step; the recorder terms return
    these very tensors. Step ``k`` (counted from 1 over the whole run) writes values that only depend on ``k`` and the
    env index (see :func:`expected_step`), so a test can tell exactly which step a written row came from.
    """

    def __init__(
        self,
        num_envs: int = 4,
        device: str = "cpu",
        image_size: int = 8,
        num_cameras: int = 1,
        success_term: bool = True,
    ) -> None:
        self.num_envs = num_envs
        self.device = device
        self.image_size = image_size
        self.num_cameras = num_cameras
        self.cfg = SimpleNamespace(
            sim=SimpleNamespace(dt=0.005, render_interval=2),
            decimation=2,
            scene=SimpleNamespace(num_envs=num_envs),
            env_name=ENV_NAME,
        )
        self.step_count = 0
        self.reset_count = 0
        self.actions = torch.zeros(num_envs, ACTION_DIM, device=device)
        self.eef_pos = torch.zeros(num_envs, 3, device=device)
        self.cams = {
            f"cam{i}": torch.zeros(num_envs, image_size, image_size, 3, dtype=torch.uint8, device=device)
            for i in range(num_cameras)
        }
        self.joint_position = torch.zeros(num_envs, JOINTS, device=device)
        self.root_pose = torch.zeros(num_envs, 7, device=device)
        self.initial_joint_position = torch.zeros(num_envs, JOINTS, device=device)
        self.success = torch.zeros(num_envs, dtype=torch.bool, device=device)
        if success_term:
            self.termination_manager = SimpleNamespace(active_terms=["time_out", "success"], get_term=self._term)

    def _term(self, name: str) -> torch.Tensor:
        assert name == "success"
        return self.success

    def advance(self) -> None:
        """Run one step: overwrite every buffer in place with the values of the next step."""
        self.step_count += 1
        for env_id in range(self.num_envs):
            values = expected_step(self.step_count, env_id, self.image_size, self.num_cameras)
            self.actions[env_id] = torch.from_numpy(values["actions"]).to(self.device)
            self.eef_pos[env_id] = torch.from_numpy(values["obs/eef_pos"]).to(self.device)
            for name, cam in self.cams.items():
                cam[env_id] = torch.from_numpy(values[f"obs/{name}"]).to(self.device)
            self.joint_position[env_id] = torch.from_numpy(values["states/articulation/robot/joint_position"]).to(
                self.device
            )
            self.root_pose[env_id] = torch.from_numpy(values["states/articulation/robot/root_pose"]).to(self.device)

    def source_tensors(self) -> list[torch.Tensor]:
        """Every tensor the recorder terms return."""
        return [
            self.actions,
            self.eef_pos,
            *self.cams.values(),
            self.joint_position,
            self.root_pose,
            self.initial_joint_position,
        ]

    def clobber(self, value: float = -7.0) -> None:
        """Overwrite every source tensor in place (what a simulator does to its buffers after an export)."""
        for tensor in self.source_tensors():
            tensor.fill_(int(value) % 256 if tensor.dtype == torch.uint8 else value)


def expected_step(step: int, env_id: int, image_size: int = 8, num_cameras: int = 1) -> dict[str, np.ndarray]:
    """The values env ``env_id`` holds at global step ``step`` (flat keys, as in the file under ``/data/demo_N``)."""
    values = {
        "actions": np.array([step, env_id, step * 10 + env_id], dtype=np.float32),
        "obs/eef_pos": np.array([step + 0.5, env_id, -step], dtype=np.float32),
        "states/articulation/robot/joint_position": (
            step + env_id / 10 + np.arange(JOINTS, dtype=np.float32) / 100
        ).astype(np.float32),
        "states/articulation/robot/root_pose": np.array([step, -env_id, 0.5, 0.0, 0.0, 0.0, 1.0], dtype=np.float32),
    }
    pixels = np.arange(image_size * image_size * 3).reshape(image_size, image_size, 3)
    for cam in range(num_cameras):
        values[f"obs/cam{cam}"] = ((pixels + step * 7 + env_id * 13 + cam * 29) % 256).astype(np.uint8)
    return values


def expected_initial_state(env_id: int, reset_count: int) -> np.ndarray:
    """The initial joint positions recorded for env ``env_id`` at its ``reset_count``-th post-reset record."""
    return np.full(JOINTS, -(env_id + 1) - 100.0 * reset_count, dtype=np.float32)


def expected_demo(
    steps: list[int], env_id: int, image_size: int = 8, num_cameras: int = 1, initial_reset: int | None = None
) -> dict[str, np.ndarray]:
    """The datasets of a demo recorded by env ``env_id`` over the given global steps (flat keys)."""
    per_step = [expected_step(step, env_id, image_size, num_cameras) for step in steps]
    demo = {key: np.stack([values[key] for values in per_step]) for key in per_step[0]}
    if initial_reset is not None:
        demo["initial_state/articulation/robot/joint_position"] = expected_initial_state(env_id, initial_reset)[None]
    return demo


"""
Recorder terms and config.
"""


class ActionTerm(RecorderTerm):
    """Records the env's action buffer itself (no copy) before each step."""

    def record_pre_step(self):
        return "actions", self._env.actions


class ObsTerm(RecorderTerm):
    """Records the observation buffers (a dict with a float term and uint8 images) after each step."""

    def record_post_step(self):
        return "obs", {"eef_pos": self._env.eef_pos, **self._env.cams}


class StateTerm(RecorderTerm):
    """Records nested articulation states after each step."""

    def record_post_step(self):
        return "states", {
            "articulation": {"robot": {"joint_position": self._env.joint_position, "root_pose": self._env.root_pose}}
        }


class InitialStateTerm(RecorderTerm):
    """Records the initial state of the reset envs after a reset (one row per reset env)."""

    def record_post_reset(self, env_ids):
        env = self._env
        env.reset_count += 1
        ids = list(range(env.num_envs)) if env_ids is None else list(env_ids)
        for env_id in ids:
            env.initial_joint_position[env_id] = torch.from_numpy(expected_initial_state(env_id, env.reset_count)).to(
                env.device
            )
        # a view of the env's buffer for the reset rows, as a simulator would return
        if ids == list(range(env.num_envs)):
            value = env.initial_joint_position
        else:
            value = env.initial_joint_position[ids]
        return "initial_state", {"articulation": {"robot": {"joint_position": value}}}


@configclass
class AsyncTestRecorderCfg(RecorderManagerBaseCfg):
    """A recorder with action, observation, state and initial-state terms."""

    record_actions = RecorderTermCfg(class_type=ActionTerm)
    record_obs = RecorderTermCfg(class_type=ObsTerm)
    record_states = RecorderTermCfg(class_type=StateTerm)
    record_initial_state = RecorderTermCfg(class_type=InitialStateTerm)


def make_recorder(export_dir, env: DataEnv | None = None, **cfg_changes) -> tuple[RecorderManager, DataEnv]:
    """A recorder manager on ``env`` (a new 4-env :class:`DataEnv` by default) writing to ``export_dir``."""
    env = env if env is not None else DataEnv()
    cfg_changes.setdefault("dataset_filename", "dataset")
    cfg = AsyncTestRecorderCfg(dataset_export_dir_path=str(export_dir), **cfg_changes)
    return RecorderManager(cfg, env), env


def record_steps(manager: RecorderManager, env: DataEnv, num_steps: int) -> list[int]:
    """Advance the env and record ``num_steps`` steps; returns the global step numbers recorded."""
    steps = []
    for _ in range(num_steps):
        env.advance()
        manager.record_pre_step()
        manager.record_post_physics_decimation_step()
        manager.record_post_step()
        steps.append(env.step_count)
    return steps


"""
Instrumented file handlers.
"""


class InstrumentedHDF5Handler(HDF5DatasetFileHandler):
    """An HDF5 handler that can be slowed or made to fail, and logs what it writes.

    Configure through a subclass made by :func:`handler_class` (the recorder builds handlers without arguments).
    """

    delay_s: float = 0.0
    """Seconds to sleep before writing each episode."""
    fail_at: frozenset[int] = frozenset()
    """Indices (0-based, in write order) of the episode writes that raise."""
    fail_from: int | None = None
    """Every write from this index on raises."""
    fail_close: bool = False
    """Whether :meth:`close` raises (after closing the file)."""
    gate: threading.Event | None = None
    """If set, every write waits until it is set."""
    instances: list[InstrumentedHDF5Handler]
    """The handlers created from this class, in creation order."""

    def __init__(self) -> None:
        super().__init__()
        self.write_calls = 0
        self.written_names: list[str] = []
        self.written_env_ids: list[int | None] = []
        self.failed_env_ids: list[int | None] = []
        self.write_threads: set[str] = set()
        # per write call: (shape, nbytes, storage nbytes) of every tensor of the episode handed to the handler
        self.tensor_storage: list[list[tuple[tuple[int, ...], int, int]]] = []
        self.started = threading.Event()
        self.close_failed = False
        type(self).instances.append(self)

    def write_episode(self, episode, demo_id=None, dataset_compression=True):
        index = self.write_calls
        self.write_calls += 1
        self.write_threads.add(threading.current_thread().name)
        self.tensor_storage.append(
            [
                (tuple(tensor.shape), tensor.nbytes, tensor.untyped_storage().nbytes())
                for tensor in _leaf_values(episode.data)
                if isinstance(tensor, torch.Tensor)
            ]
        )
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(60), "the gate of the instrumented handler was never opened"
        if self.delay_s:
            time.sleep(self.delay_s)
        if index in self.fail_at or (self.fail_from is not None and index >= self.fail_from):
            self.failed_env_ids.append(episode.env_id)
            raise OSError(f"injected write failure at episode index {index} (env {episode.env_id})")
        # one writer thread writes: the name of the running count cannot change under us
        name = f"demo_{self.demo_count if demo_id is None else demo_id}"
        super().write_episode(episode, demo_id, dataset_compression)
        self.written_names.append(name)
        self.written_env_ids.append(episode.env_id)

    def close(self):
        super().close()
        # the first close fails (after closing the file); closing again, as __del__ does, does nothing
        if self.fail_close and not self.close_failed:
            self.close_failed = True
            raise OSError("injected close failure")


def _leaf_values(node: dict):
    for value in node.values():
        if isinstance(value, dict):
            yield from _leaf_values(value)
        else:
            yield value


def handler_class(
    delay_s: float = 0.0,
    fail_at=(),
    fail_from: int | None = None,
    fail_close: bool = False,
    gate: threading.Event | None = None,
) -> type[InstrumentedHDF5Handler]:
    """A fresh :class:`InstrumentedHDF5Handler` subclass with its own settings and instance list."""
    return type(
        "ConfiguredHDF5Handler",
        (InstrumentedHDF5Handler,),
        {
            "delay_s": delay_s,
            "fail_at": frozenset(fail_at),
            "fail_from": fail_from,
            "fail_close": fail_close,
            "gate": gate,
            "instances": [],
        },
    )


"""
Reading whole files.
"""


def read_tree(path) -> dict[str, Any]:
    """Everything in an HDF5 file: per object path, its kind, attributes and (for datasets) dtype, shape, filters
    and values. ``env_args`` is parsed from JSON so that key order does not matter."""
    tree: dict[str, Any] = {}

    def attrs_of(obj) -> dict[str, Any]:
        attrs = {}
        for key, value in obj.attrs.items():
            if key == "env_args":
                value = json.loads(value)
            elif isinstance(value, np.generic):
                value = (type(value).__name__, value.item())
            attrs[key] = value
        return attrs

    with h5py.File(path, "r") as file:
        tree["/"] = {"kind": "group", "attrs": attrs_of(file)}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                tree[name] = {
                    "kind": "dataset",
                    "attrs": attrs_of(obj),
                    "dtype": obj.dtype.str,
                    "shape": obj.shape,
                    "compression": obj.compression,
                    "compression_opts": obj.compression_opts,
                    "values": obj[()],
                }
            else:
                tree[name] = {"kind": "group", "attrs": attrs_of(obj), "members": list(obj.keys())}

        file.visititems(visit)
    return tree


def assert_trees_equal(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Assert two :func:`read_tree` results are identical (names, kinds, dtypes, shapes, filters, values, attrs)."""
    assert sorted(actual) == sorted(expected), "the files hold different objects"
    for name, want in expected.items():
        got = actual[name]
        for key in want:
            if key == "values":
                assert got["values"].dtype == want["values"].dtype, name
                np.testing.assert_array_equal(got["values"], want["values"], err_msg=name)
            else:
                assert got[key] == want[key], f"{name}: {key} differs: {got[key]!r} != {want[key]!r}"


def demo_arrays(path, demo_name: str) -> dict[str, np.ndarray]:
    """The datasets of one demo, flat keys."""
    arrays = {}
    with h5py.File(path, "r") as file:
        group = file["data"][demo_name]
        group.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def assert_demo_equals(path, demo_name: str, expected: dict[str, np.ndarray]) -> None:
    """Assert a demo holds exactly the expected datasets and values."""
    arrays = demo_arrays(path, demo_name)
    assert sorted(arrays) == sorted(expected), f"{demo_name}: datasets {sorted(arrays)} != {sorted(expected)}"
    for key, value in expected.items():
        assert arrays[key].dtype == value.dtype, f"{demo_name}/{key}"
        np.testing.assert_array_equal(arrays[key], value, err_msg=f"{demo_name}/{key}")


def demo_names(path) -> list[str]:
    """The demo names under ``/data``, sorted by index."""
    with h5py.File(path, "r") as file:
        return sorted(file["data"].keys(), key=lambda name: int(name.split("_")[1]))


def wait_until(predicate, timeout_s: float = 10.0, interval_s: float = 0.005) -> bool:
    """Poll ``predicate`` until it is true or the timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True
