# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""The LeRobot v3.0 folder layout, and which episode keys become which LeRobot features."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from .lerobot_dataset_cfg import LeRobotDatasetCfg

CODEBASE_VERSION = "v3.0"
"""The LeRobot dataset format version written."""

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
JOURNAL_DIR = ".recovery"
"""The folder of the recovery journal while a dataset is being written; it is removed when the dataset is closed."""

ACTION = "action"
STATE = "observation.state"
IMAGES_PREFIX = "observation.images."

INDEX_FEATURES = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
"""The per-frame bookkeeping features of every LeRobot dataset."""


@dataclass(frozen=True)
class FileIndex:
    """The chunk and file number of one data, video or metadata file."""

    chunk: int = 0
    file: int = 0

    def next(self, chunks_size: int) -> FileIndex:
        """The file after this one (a new chunk every ``chunks_size`` files)."""
        if self.file + 1 >= chunks_size:
            return FileIndex(self.chunk + 1, 0)
        return FileIndex(self.chunk, self.file + 1)

    def path(self, template: str, **keys: Any) -> str:
        """The relative path of this file from a path template."""
        return template.format(chunk_index=self.chunk, file_index=self.file, **keys)


@dataclass
class FeatureLayout:
    """Which episode keys become the action, the state and the camera videos of a LeRobot dataset.

    It is decided from the first episode written, and every later episode must have the same keys, shapes and
    dtypes.
    """

    action_key: str
    action_dim: int
    state_keys: list[str] = field(default_factory=list)
    state_sizes: list[int] = field(default_factory=list)
    cameras: dict[str, str] = field(default_factory=dict)
    """Video feature name -> episode key."""
    camera_shapes: dict[str, list[int]] = field(default_factory=dict)
    """Video feature name -> (H, W, 3)."""

    @classmethod
    def from_episode(cls, data: dict, cfg: LeRobotDatasetCfg) -> FeatureLayout:
        """Decide the layout from an episode's (stacked) data and the handler's settings.

        Raises:
            KeyError: If a configured key is not in the episode.
            ValueError: If a camera is not uint8 of shape (T, H, W, 3), or two cameras end in the same name.
        """
        action = _lookup(data, cfg.action_key, "action_key")
        camera_keys = cfg.camera_keys
        if camera_keys is None:
            camera_keys = [f"obs/{name}" for name, value in sorted(data.get("obs", {}).items()) if _is_camera(value)]
        cameras, shapes = {}, {}
        for key in camera_keys:
            frames = _lookup(data, key, "camera_keys")
            if not _is_camera(frames):
                raise ValueError(
                    f"Camera key '{key}' must hold uint8 frames of shape (T, H, W, 3); got dtype {frames.dtype} and"
                    f" shape {tuple(frames.shape)}."
                )
            name = IMAGES_PREFIX + key.split("/")[-1]
            if name in cameras:
                raise ValueError(f"Camera keys '{cameras[name]}' and '{key}' both map to the feature '{name}'.")
            cameras[name] = key
            shapes[name] = list(frames.shape[1:])
        state_keys = cfg.state_keys
        if state_keys is None:
            state_keys = [
                f"obs/{name}"
                for name, value in sorted(data.get("obs", {}).items())
                if isinstance(value, torch.Tensor) and f"obs/{name}" not in camera_keys
            ]
        state_sizes = [_row_size(_lookup(data, key, "state_keys")) for key in state_keys]
        return cls(cfg.action_key, _row_size(action), list(state_keys), state_sizes, cameras, shapes)

    @property
    def state_dim(self) -> int:
        """The length of ``observation.state``."""
        return sum(self.state_sizes)

    def state_names(self) -> list[str]:
        """One name per element of ``observation.state``: the term's name, with the element's index if it has more
        than one."""
        names = []
        for key, size in zip(self.state_keys, self.state_sizes):
            term = key.split("/")[-1]
            names += [term] if size == 1 else [f"{term}_{index}" for index in range(size)]
        return names

    def features(self, fps: int, video_info: dict[str, dict]) -> dict[str, dict]:
        """The ``features`` of ``meta/info.json``.

        Args:
            fps: Frames per second.
            video_info: Per video feature, the ``info`` entries of its stream (codec, pixel format...).
        """
        features = {
            ACTION: {"dtype": "float32", "shape": [self.action_dim], "names": _indexed("action", self.action_dim)}
        }
        if self.state_keys:
            features[STATE] = {"dtype": "float32", "shape": [self.state_dim], "names": self.state_names()}
        for name, shape in self.camera_shapes.items():
            info = {"video.fps": fps, **video_info.get(name, {})}
            features[name] = {
                "dtype": "video",
                "shape": list(shape),
                "names": ["height", "width", "channels"],
                "info": info,
            }
        features.update(json.loads(json.dumps(INDEX_FEATURES)))
        return features

    def extract(self, data: dict) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
        """The action (T, A), the state (T, S) or None, and each camera's frames (T, H, W, 3) of an episode.

        Raises:
            KeyError: If a key of the layout is missing.
            ValueError: If a shape or dtype differs from the first episode's, or the keys differ in length.
        """
        action = _rows(_lookup(data, self.action_key, "action_key"), self.action_key, self.action_dim)
        num_frames = len(action)
        state = None
        if self.state_keys:
            parts = [
                _rows(_lookup(data, key, "state_keys"), key, size)
                for key, size in zip(self.state_keys, self.state_sizes)
            ]
            for key, part in zip(self.state_keys, parts):
                _check_length(key, len(part), self.action_key, num_frames)
            state = np.concatenate(parts, axis=1)
        frames = {}
        for name, key in self.cameras.items():
            value = _lookup(data, key, "camera_keys")
            if value.dtype != torch.uint8 or list(value.shape[1:]) != self.camera_shapes[name]:
                raise ValueError(
                    f"Camera key '{key}' has dtype {value.dtype} and frame shape {tuple(value.shape[1:])}; the"
                    f" dataset's first episode had uint8 frames of shape {tuple(self.camera_shapes[name])}."
                )
            _check_length(key, len(value), self.action_key, num_frames)
            frames[name] = value.detach().cpu().numpy()
        return action, state, frames

    def split_state(self, state: np.ndarray) -> dict[str, np.ndarray]:
        """The state (T, S) split back into its terms, keyed by their episode keys (each (T, size))."""
        parts, start = {}, 0
        for key, size in zip(self.state_keys, self.state_sizes):
            parts[key] = state[:, start : start + size]
            start += size
        return parts

    def to_json(self) -> dict:
        """The layout as a JSON-serializable dict."""
        return {
            "action_key": self.action_key,
            "action_dim": self.action_dim,
            "state_keys": self.state_keys,
            "state_sizes": self.state_sizes,
            "cameras": self.cameras,
            "camera_shapes": self.camera_shapes,
        }

    @classmethod
    def from_json(cls, value: dict) -> FeatureLayout:
        """The layout from :meth:`to_json`'s dict."""
        return cls(**value)


def dataset_path(root: str, relative_path: str) -> str:
    """The absolute path of a file of the dataset, its parent folders created."""
    path = os.path.join(root, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def _is_camera(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.uint8 and value.dim() == 4 and value.shape[-1] == 3


def _lookup(data: dict, key: str, setting: str) -> torch.Tensor:
    node: Any = data
    for part in key.split("/"):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"The episode has no key '{key}' (LeRobotDatasetCfg.{setting}).")
        node = node[part]
    if not isinstance(node, torch.Tensor):
        raise ValueError(f"The episode key '{key}' (LeRobotDatasetCfg.{setting}) is a group, not a tensor.")
    return node


def _row_size(value: torch.Tensor) -> int:
    return int(np.prod(value.shape[1:], dtype=np.int64)) if value.dim() > 1 else 1


def _rows(value: torch.Tensor, key: str, size: int) -> np.ndarray:
    """The tensor as float32 rows (T, size)."""
    if value.dim() == 0 or _row_size(value) != size:
        raise ValueError(
            f"The episode key '{key}' has shape {tuple(value.shape)}: expected (T, ...) with {size} values per step,"
            " as in the dataset's first episode."
        )
    return value.detach().cpu().reshape(len(value), size).to(torch.float32).numpy()


def _check_length(key: str, length: int, action_key: str, num_frames: int) -> None:
    if length != num_frames:
        raise ValueError(f"The episode key '{key}' has {length} steps, but '{action_key}' has {num_frames}.")


def _indexed(prefix: str, size: int) -> list[str]:
    return [f"{prefix}_{index}" for index in range(size)]
