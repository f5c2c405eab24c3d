"""Types shared by the environments."""

from __future__ import annotations

import torch

VecEnvObs = dict[str, torch.Tensor | dict[str, torch.Tensor]]
"""Observations of a batch of environments: one entry per observation group."""

VecEnvStepReturn = tuple[VecEnvObs, torch.Tensor, torch.Tensor, torch.Tensor, dict]
"""What ``step`` returns: observations, rewards, terminated flags, time-out flags and extras."""
