# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import Any

import torch

SUPPORTED_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
    }
)
"""Tensor dtypes an episode can hold: those with a numpy (and so an HDF5) counterpart."""


class EpisodeData:
    """Class to store episode data.

    While an episode is recorded, every leaf of :attr:`data` is a list of per-step tensors; :meth:`pre_export` stacks
    each list into one tensor. Every appended tensor is checked against the key's earlier steps (same shape and
    dtype, a dtype HDF5 can store, a key never both a tensor and a group), so that a bad record fails when it is
    recorded, with the key, and not later at export.

    With ``early_cpu_offload``, every appended tensor is stored as an owned CPU copy, so that device memory does not
    grow with the episode's length.
    """

    def __init__(self, early_cpu_offload: bool = False) -> None:
        """Initializes episode data class.

        Args:
            early_cpu_offload: Store every appended tensor as a CPU copy made when it is appended.
        """
        self._data = {}
        self._next_action_index = 0
        self._next_state_index = 0
        self._next_joint_target_index = 0
        self._seed = None
        self._env_id = None
        self._success = None
        self._early_cpu_offload = early_cpu_offload
        self._nbytes = 0
        # whether a stored tensor may be shared with its producer (appended with clone=False, or set through data)
        self._holds_borrowed_tensors = False

    @property
    def data(self):
        """Returns the episode data."""
        return self._data

    @data.setter
    def data(self, data: dict):
        """Set the episode data."""
        self._data = data
        self._nbytes = _tree_nbytes(data)
        self._holds_borrowed_tensors = True

    @property
    def seed(self):
        """Returns the random number generator seed."""
        return self._seed

    @seed.setter
    def seed(self, seed: int):
        """Set the random number generator seed."""
        self._seed = seed

    @property
    def env_id(self):
        """Returns the environment ID."""
        return self._env_id

    @env_id.setter
    def env_id(self, env_id: int):
        """Set the environment ID."""
        self._env_id = env_id

    @property
    def next_action_index(self):
        """Returns the next action index."""
        return self._next_action_index

    @next_action_index.setter
    def next_action_index(self, index: int):
        """Set the next action index."""
        self._next_action_index = index

    @property
    def next_state_index(self):
        """Returns the next state index."""
        return self._next_state_index

    @next_state_index.setter
    def next_state_index(self, index: int):
        """Set the next state index."""
        self._next_state_index = index

    @property
    def success(self):
        """Returns the success value."""
        return self._success

    @success.setter
    def success(self, success: bool):
        """Set the success value."""
        self._success = success

    @property
    def early_cpu_offload(self) -> bool:
        """Whether appended tensors are stored as CPU copies."""
        return self._early_cpu_offload

    @property
    def nbytes(self) -> int:
        """Bytes held by the episode's tensors."""
        return self._nbytes

    def is_empty(self):
        """Check if the episode data is empty."""
        return not self._data

    def add(self, key: str, value: torch.Tensor | dict, clone: bool = True):
        """Add a key-value pair to the dataset.

        The key can be nested by using the "/" character.
        For example: "obs/joint_pos".

        Args:
            key: The key name.
            value: The corresponding value of tensor type or of dict type.
            clone: Whether to clone the tensor value before storing it in the episode data. With
                ``early_cpu_offload`` the tensor is always copied to the CPU.

        Raises:
            TypeError: If a value is neither a tensor nor a dict, or its dtype cannot be stored.
            ValueError: If a tensor does not match the shape or dtype of the key's earlier steps, or the key is
                recorded both as a tensor and as a group. Nothing is added then.
        """
        leaves = list(_flatten(key, value))
        for leaf_key, tensor in leaves:
            self.check_append(leaf_key, tensor)
        for leaf_key, tensor in leaves:
            if self._early_cpu_offload:
                stored = tensor.to("cpu", copy=True)
            elif clone:
                stored = tensor.clone()
            else:
                stored = tensor
                self._holds_borrowed_tensors = True
            self.append_owned(leaf_key, stored)

    def check_append(self, key: str, tensor: torch.Tensor) -> None:
        """Check that a tensor can be appended at a key, without appending it.

        Args:
            key: The key, nested with ``/``.
            tensor: The tensor of one step.

        Raises:
            TypeError: If the value is not a tensor, or its dtype cannot be stored.
            ValueError: If it does not match the shape or dtype of the key's earlier steps, or the key is (or is
                inside) a group where a tensor is expected, or the other way round.
        """
        where = f"key '{key}'" + (f" of env {self._env_id}" if self._env_id is not None else "")
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"Recorded value for {where} must be a torch.Tensor or a dict, got {type(tensor)}.")
        if tensor.dtype not in SUPPORTED_DTYPES:
            raise TypeError(
                f"Recorded value for {where} has dtype {tensor.dtype}, which a dataset file cannot store;"
                " convert it (for example to torch.float32) before recording."
            )
        *parents, leaf = key.split("/")
        node = self._data
        for depth, name in enumerate(parents):
            node = node.get(name)
            if node is None:
                return
            if not isinstance(node, dict):
                raise ValueError(
                    f"Cannot record {where}: '{'/'.join(parents[: depth + 1])}' is already recorded as a tensor,"
                    " not a group."
                )
        steps = node.get(leaf)
        if steps is None:
            return
        if isinstance(steps, dict):
            raise ValueError(f"Cannot record {where} as a tensor: it is already recorded as a group of keys.")
        if steps and (steps[0].shape != tensor.shape or steps[0].dtype != tensor.dtype):
            raise ValueError(
                f"Recorded value for {where} has shape {tuple(tensor.shape)} and dtype {tensor.dtype}, but earlier"
                f" steps have shape {tuple(steps[0].shape)} and dtype {steps[0].dtype}."
            )

    def append_owned(self, key: str, tensor: torch.Tensor) -> None:
        """Append a tensor the episode may keep as is: nothing else holds or writes its storage.

        This is the recorder's path after it made the tensor itself; it does not check the tensor (see
        :meth:`check_append`). Use :meth:`add` otherwise.

        Args:
            key: The key, nested with ``/``.
            tensor: The tensor of one step.
        """
        *parents, leaf = key.split("/")
        node = self._data
        for name in parents:
            node = node.setdefault(name, {})
        node.setdefault(leaf, []).append(tensor)
        self._nbytes += tensor.nbytes

    def get_initial_state(self) -> torch.Tensor | None:
        """Get the initial state from the dataset."""
        return self._data.get("initial_state")

    def get_action(self, action_index) -> torch.Tensor | None:
        """Get the action of the specified index from the dataset."""
        if "actions" not in self._data:
            return None
        if action_index >= len(self._data["actions"]):
            return None
        return self._data["actions"][action_index]

    def get_next_action(self) -> torch.Tensor | None:
        """Get the next action from the dataset."""
        action = self.get_action(self._next_action_index)
        if action is not None:
            self._next_action_index += 1
        return action

    def get_state(self, state_index) -> dict | None:
        """Get the state of the specified index from the dataset (each tensor keeps a leading dimension of one)."""
        if "states" not in self._data:
            return None
        return _index_nested(self._data["states"], state_index, keep_dim=True)

    def get_next_state(self) -> dict | None:
        """Get the next state from the dataset."""
        state = self.get_state(self._next_state_index)
        if state is not None:
            self._next_state_index += 1
        return state

    def get_joint_target(self, joint_target_index) -> dict | torch.Tensor | None:
        """Get the joint target of the specified index from the dataset."""
        if "joint_targets" not in self._data:
            return None
        return _index_nested(self._data["joint_targets"], joint_target_index, keep_dim=False)

    def get_next_joint_target(self) -> dict | torch.Tensor | None:
        """Get the next joint target from the dataset."""
        joint_target = self.get_joint_target(self._next_joint_target_index)
        if joint_target is not None:
            self._next_joint_target_index += 1
        return joint_target

    def pre_export(self):
        """Prepare data for export by converting lists to tensors."""
        _stack_lists(self._data)

    def snapshot(self) -> EpisodeData:
        """Return a copy that shares no container, and no tensor anyone may still write to, with this episode.

        Tensors the episode made itself when they were appended are never written again, so the copy shares them;
        tensors it borrowed (``clone=False``, or set through :attr:`data`) are cloned.
        """
        copy_tensor = _clone if self._holds_borrowed_tensors else _keep
        snapshot = EpisodeData(early_cpu_offload=self._early_cpu_offload)
        snapshot._data = _copy_tree(self._data, copy_tensor)
        snapshot._seed = self._seed
        snapshot._env_id = self._env_id
        snapshot._success = self._success
        snapshot._nbytes = self._nbytes
        return snapshot


def _flatten(key: str, value: Any):
    """Yield ``(key/sub_key, tensor)`` for every leaf of a (nested) dict value."""
    if isinstance(value, dict):
        for sub_key, sub_value in value.items():
            yield from _flatten(f"{key}/{sub_key}", sub_value)
    else:
        yield key, value


def _index_nested(data: Any, index: int, keep_dim: bool) -> Any:
    """Select ``index`` along the first dimension (or list position) of every leaf of a (nested) dict.

    Returns None when the index is out of range for any leaf. With ``keep_dim`` the selection keeps a leading
    dimension of size one.
    """
    if isinstance(data, dict):
        selected = {}
        for key, value in data.items():
            selected[key] = _index_nested(value, index, keep_dim)
            if selected[key] is None:
                return None
        return selected
    if isinstance(data, (list, torch.Tensor)):
        if index >= len(data):
            return None
        item = data[index]
        return item.unsqueeze(0) if keep_dim else item
    raise ValueError(f"Invalid data type: {type(data)}")


def _stack_lists(node: dict) -> None:
    for key, value in node.items():
        if isinstance(value, list):
            node[key] = torch.stack(value)
        elif isinstance(value, dict):
            _stack_lists(value)


def _copy_tree(node: Any, copy_tensor) -> Any:
    if isinstance(node, dict):
        return {key: _copy_tree(value, copy_tensor) for key, value in node.items()}
    if isinstance(node, list):
        return [copy_tensor(tensor) for tensor in node]
    if isinstance(node, torch.Tensor):
        return copy_tensor(node)
    return node


def _tree_nbytes(node: Any) -> int:
    if isinstance(node, dict):
        return sum(_tree_nbytes(value) for value in node.values())
    if isinstance(node, list):
        return sum(_tree_nbytes(value) for value in node)
    if isinstance(node, torch.Tensor):
        return node.nbytes
    return 0


def _clone(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.clone()


def _keep(tensor: torch.Tensor) -> torch.Tensor:
    return tensor
