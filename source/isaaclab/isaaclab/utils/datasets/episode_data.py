"""The data of one recorded episode."""

from __future__ import annotations

from typing import Any

import torch


class EpisodeData:
    """Data of one episode: a nested dictionary whose leaves are lists of per-step tensors.

    While recording, every leaf is a **list** of the tensors appended so far; :meth:`pre_export` stacks each list into
    one tensor. Keys may be nested with ``/`` (``"obs/eef_pos"``).

    With ``early_cpu_offload`` every appended tensor is stored as an owned CPU copy, so that device memory does not
    grow with the episode's length.
    """

    def __init__(self, early_cpu_offload: bool = False) -> None:
        """Create an empty episode.

        Args:
            early_cpu_offload: Store every appended tensor as a CPU copy made at append time.
        """
        self._data: dict[str, Any] = dict()
        self._next_action_index = 0
        self._next_state_index = 0
        self._seed: int | None = None
        self._env_id: int | None = None
        self._success: bool | None = None
        self._early_cpu_offload = early_cpu_offload
        self._nbytes = 0
        # whether some stored tensor may be shared with its producer (appended with clone=False or set via data)
        self._holds_borrowed_tensors = False

    """
    Properties.
    """

    @property
    def data(self) -> dict[str, Any]:
        """The episode data (nested dictionary)."""
        return self._data

    @data.setter
    def data(self, data: dict[str, Any]) -> None:
        self._data = data
        self._nbytes = _tree_nbytes(data)
        self._holds_borrowed_tensors = True

    @property
    def seed(self) -> int | None:
        """The random seed of the episode, if known."""
        return self._seed

    @seed.setter
    def seed(self, seed: int | None) -> None:
        self._seed = seed

    @property
    def env_id(self) -> int | None:
        """The environment index the episode was recorded in."""
        return self._env_id

    @env_id.setter
    def env_id(self, env_id: int | None) -> None:
        self._env_id = env_id

    @property
    def success(self) -> bool | None:
        """Whether the episode succeeded, if known."""
        return self._success

    @success.setter
    def success(self, success: bool | None) -> None:
        self._success = success

    @property
    def next_action_index(self) -> int:
        """The index of the action :meth:`get_next_action` returns."""
        return self._next_action_index

    @property
    def next_state_index(self) -> int:
        """The index of the state :meth:`get_next_state` returns."""
        return self._next_state_index

    @property
    def early_cpu_offload(self) -> bool:
        """Whether appended tensors are stored as CPU copies."""
        return self._early_cpu_offload

    @property
    def nbytes(self) -> int:
        """Bytes held by the episode's tensors."""
        return self._nbytes

    """
    Operations.
    """

    def is_empty(self) -> bool:
        """Whether nothing has been recorded."""
        return not bool(self._data)

    def add(self, key: str, value: torch.Tensor | dict, clone: bool = True) -> None:
        """Append a value to the list at ``key``.

        Args:
            key: The key, nested with ``/`` (for example ``"obs/eef_pos"``).
            value: A tensor, or a (nested) dictionary of tensors added under ``key/<sub_key>``.
            clone: Store a copy of the tensor rather than the tensor itself. With ``early_cpu_offload`` the tensor is
                always copied to the CPU.

        Raises:
            TypeError: If the value is neither a tensor nor a dictionary.
        """
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                self.add(f"{key}/{sub_key}", sub_value, clone=clone)
            return
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"Value for key '{key}' must be a torch.Tensor or a dict, got '{type(value).__name__}'.")
        if self._early_cpu_offload:
            stored = value.to("cpu", copy=True)
        elif clone:
            stored = value.clone()
        else:
            stored = value
            self._holds_borrowed_tensors = True
        self.append_owned(key, stored)

    def append_owned(self, key: str, tensor: torch.Tensor) -> None:
        """Append a tensor that the episode may keep as is: nothing else writes to its storage afterwards.

        This is the recorder's fast path after it copied a whole batch at once; use :meth:`add` otherwise.

        Args:
            key: The key, nested with ``/``.
            tensor: The tensor to store without copying.
        """
        *parents, leaf = key.split("/")
        node = self._data
        for name in parents:
            node = node.setdefault(name, dict())
        node.setdefault(leaf, []).append(tensor)
        self._nbytes += tensor.nbytes

    def get_initial_state(self) -> Any:
        """The initial state of the episode, or None if not recorded."""
        return self._data.get("initial_state")

    def get_action(self, action_index: int) -> torch.Tensor | None:
        """The action at the index, or None if out of range or not recorded."""
        actions = self._data.get("actions")
        if actions is None or action_index >= len(actions):
            return None
        return actions[action_index]

    def get_next_action(self) -> torch.Tensor | None:
        """The next action, advancing :attr:`next_action_index`; None at the end."""
        action = self.get_action(self._next_action_index)
        if action is not None:
            self._next_action_index += 1
        return action

    def get_state(self, state_index: int) -> dict | None:
        """The (nested) state at the index, or None if out of range or not recorded."""
        states = self._data.get("states")
        if states is None:
            return None
        return _select_step(states, state_index)

    def get_next_state(self) -> dict | None:
        """The next state, advancing :attr:`next_state_index`; None at the end."""
        state = self.get_state(self._next_state_index)
        if state is not None:
            self._next_state_index += 1
        return state

    def pre_export(self) -> None:
        """Stack every per-step list into one tensor (in place)."""
        _stack_lists(self._data)

    def snapshot(self) -> EpisodeData:
        """Return a copy that shares no container, and no tensor storage anyone may write to, with this episode.

        Tensors the episode copied itself when they were appended are immutable from then on and are shared; all
        containers are new. Tensors it borrowed (``clone=False``, or data set directly) are cloned.
        """
        copy_tensor = _clone if self._holds_borrowed_tensors else _keep
        snapshot = EpisodeData(early_cpu_offload=self._early_cpu_offload)
        snapshot._data = _copy_tree(self._data, copy_tensor)
        snapshot._seed = self._seed
        snapshot._env_id = self._env_id
        snapshot._success = self._success
        snapshot._nbytes = self._nbytes
        return snapshot


def _select_step(node: Any, index: int) -> Any:
    if isinstance(node, dict):
        selected = dict()
        for key, value in node.items():
            selected[key] = _select_step(value, index)
            if selected[key] is None:
                return None
        return selected
    if isinstance(node, (list, torch.Tensor)):
        return node[index] if index < len(node) else None
    raise ValueError(f"Invalid state type: {type(node)}")


def _stack_lists(node: dict[str, Any]) -> None:
    for key, value in node.items():
        if isinstance(value, list):
            node[key] = torch.stack(value)
        elif isinstance(value, dict):
            _stack_lists(value)


def _copy_tree(node: Any, copy_tensor: Any) -> Any:
    if isinstance(node, dict):
        return {key: _copy_tree(value, copy_tensor) for key, value in node.items()}
    if isinstance(node, list):
        return list(node) if copy_tensor is _keep else [copy_tensor(tensor) for tensor in node]
    if isinstance(node, torch.Tensor):
        return _clone(node)
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
