"""Recorder terms that record actions, observations and states of a manager-based env."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from isaaclab.managers.recorder_manager import RecorderTerm


class InitialStateRecorder(RecorderTerm):
    """Records the scene state of the environments right after they reset, as ``initial_state``."""

    def record_post_reset(self, env_ids: Sequence[int] | None):
        state = self._env.scene.get_state(is_relative=True)
        return "initial_state", _select_rows(state, env_ids)


class PostStepStatesRecorder(RecorderTerm):
    """Records the scene state after each step, as ``states``."""

    def record_post_step(self):
        return "states", self._env.scene.get_state(is_relative=True)


class PreStepActionsRecorder(RecorderTerm):
    """Records the raw action of each step, as ``actions``."""

    def record_pre_step(self):
        return "actions", self._env.action_manager.action


class PreStepFlatPolicyObservationsRecorder(RecorderTerm):
    """Records the policy observations (a dict of terms) before each step, as ``obs``."""

    def record_pre_step(self):
        return "obs", self._env.obs_buf["policy"]


class PostStepProcessedActionsRecorder(RecorderTerm):
    """Records the processed actions of every action term, concatenated, as ``processed_actions``."""

    def record_post_step(self):
        terms = self._env.action_manager._terms.values()
        return "processed_actions", torch.cat([term.processed_actions for term in terms], dim=1)


def _select_rows(value, env_ids: Sequence[int] | None):
    if isinstance(value, dict):
        return {key: _select_rows(item, env_ids) for key, item in value.items()}
    return value if env_ids is None else value[env_ids]
