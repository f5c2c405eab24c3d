# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""What the recorder-level benchmarks record with: an env double, its recorder terms and configuration, and the
export modes.

Only the public API that this project shares with Isaac Lab 3.0.0 is used, so the same code records with either.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch

from isaaclab.managers import DatasetExportMode, RecorderManagerBaseCfg, RecorderTerm, RecorderTermCfg
from isaaclab.utils import configclass

EXPORT_MODES: dict[str, dict[str, Any]] = {
    "no_export": {"dataset_export_mode": DatasetExportMode.EXPORT_NONE},
    "sync": {},
    "async": {"async_write": True},
    "async_offload": {"async_write": True, "early_cpu_offload": True},
}
"""The export modes, by name, as recorder settings (also the keyword arguments of Mimic's ``generate_dataset``):
``no_export`` records every step and drops the episodes, ``sync`` writes them inside the export call (Isaac Lab's
default), ``async`` on the writer thread, ``async_offload`` also moves every recorded step to the CPU at once."""

FRAME_BANK = 16
"""Distinct camera frames the env double cycles through."""


def camera_frames(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """Camera-like RGB frames: smooth colour fields (upsampled coarse noise) with a little pixel noise.

    They compress about as well as rendered images of a simple scene: much better than noise, much worse than
    constant frames.

    Returns:
        The frames, shape ``(count, size, size, 3)``, uint8.
    """
    coarse = torch.rand(count, 3, 6, 6, generator=generator)
    smooth = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    noise = torch.rand(count, 3, size, size, generator=generator) * 0.06
    frames = ((smooth * 0.94 + noise) * 255).clamp(0, 255).to(torch.uint8)
    return frames.permute(0, 2, 3, 1).contiguous()


class EnvDouble:
    """The attributes a recorder manager reads, and signal buffers that :meth:`step` rewrites in place, as a
    simulator does: actions, low-dimensional observations, articulation and object states, and RGB cameras."""

    def __init__(
        self, num_envs: int, device: str = "cpu", image_size: int = 84, num_cameras: int = 0, seed: int = 0
    ) -> None:
        """Allocate the buffers.

        Args:
            num_envs: The number of environments.
            device: The torch device of the buffers.
            image_size: Width and height of the camera images.
            num_cameras: The number of RGB cameras (uint8 observations ``obs/camera_<i>``).
            seed: Seed of the camera frames and of each env's phase.
        """
        self.num_envs = num_envs
        self.device = device
        self.cfg = SimpleNamespace(
            sim=SimpleNamespace(dt=1 / 120, render_interval=2),
            decimation=2,
            scene=SimpleNamespace(num_envs=num_envs),
            env_name="Isaac-RecorderBenchmark-v0",
        )
        self.sim = SimpleNamespace(is_playing=lambda: True)
        self.termination_manager = SimpleNamespace(active_terms=[])
        self.step_count = 0
        generator = torch.Generator().manual_seed(seed)
        self._phase = torch.rand(num_envs, 1, generator=generator).to(device)
        self._env_index = torch.arange(num_envs, device=device)

        def zeros(width: int) -> torch.Tensor:
            return torch.zeros(num_envs, width, device=device)

        self.actions = zeros(7)
        self.obs: dict[str, torch.Tensor] = {"eef_pos": zeros(3), "eef_quat": zeros(4), "joint_pos": zeros(9)}
        self.states = {
            "articulation": {"robot": {"root_pose": zeros(7), "joint_position": zeros(9)}},
            "rigid_object": {"cube": {"root_pose": zeros(7)}},
        }
        self._frames = camera_frames(FRAME_BANK, image_size, generator).to(device) if num_cameras else None
        for camera in range(num_cameras):
            shape = (num_envs, image_size, image_size, 3)
            self.obs[f"camera_{camera}"] = torch.zeros(shape, dtype=torch.uint8, device=device)

    def buffers(self) -> list[torch.Tensor]:
        """Every signal buffer: the batch recorded per step."""
        return _leaves({"actions": self.actions, "obs": self.obs, "states": self.states})

    def step_bytes(self) -> int:
        """Bytes of one recorded step of every environment."""
        return sum(tensor.nbytes for tensor in self.buffers())

    def step(self) -> None:
        """Write the values of the next step into every buffer (in place)."""
        self.step_count += 1
        t = self.step_count * 0.01 + self._phase
        for offset, tensor in enumerate(self.buffers()):
            if tensor.dtype == torch.uint8:
                index = (self._env_index + self.step_count + offset * 5) % FRAME_BANK
                tensor.copy_(self._frames[index])
            else:
                tensor.copy_(torch.sin(t * (offset + 1) + torch.arange(tensor.shape[1], device=self.device)))


def _leaves(node: Any) -> list[torch.Tensor]:
    """The tensors of a nested dict, in order."""
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    return [node]


class ActionsTerm(RecorderTerm):
    """Records the env double's actions before each step."""

    def record_pre_step(self):
        return "actions", self._env.actions


class ObservationsTerm(RecorderTerm):
    """Records the env double's observations after each step."""

    def record_post_step(self):
        return "obs", self._env.obs


class StatesTerm(RecorderTerm):
    """Records the env double's states after each step."""

    def record_post_step(self):
        return "states", self._env.states


@configclass
class BenchRecorderCfg(RecorderManagerBaseCfg):
    """The env double's actions, observations and states."""

    record_actions = RecorderTermCfg(class_type=ActionsTerm)
    record_obs = RecorderTermCfg(class_type=ObservationsTerm)
    record_states = RecorderTermCfg(class_type=StatesTerm)
