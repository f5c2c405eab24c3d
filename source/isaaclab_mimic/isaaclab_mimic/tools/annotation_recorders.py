"""Recorder terms that write Mimic's ``obs/datagen_info`` while source demos are replayed."""

from __future__ import annotations

from isaaclab.envs.mdp.recorders.recorders_cfg import ActionStateRecorderManagerCfg
from isaaclab.managers import RecorderTerm, RecorderTermCfg
from isaaclab.utils import configclass


class PreStepDatagenInfoRecorder(RecorderTerm):
    """Before each step: every end effector's pose, every object's pose and the target pose the action commands."""

    def record_pre_step(self):
        env = self._env
        eef_pose = {eef_name: env.get_robot_eef_pose(eef_name) for eef_name in env.cfg.subtask_configs}
        datagen_info = {
            "eef_pose": eef_pose,
            "object_pose": env.get_object_poses(),
            "target_eef_pose": env.action_to_target_eef_pose(env.action_manager.action),
        }
        return "obs/datagen_info", datagen_info


class PreStepSubtaskTermsObservationsRecorder(RecorderTerm):
    """Before each step: the subtask term signals (0/1)."""

    def record_pre_step(self):
        return "obs/datagen_info/subtask_term_signals", self._env.get_subtask_term_signals()


@configclass
class PreStepDatagenInfoRecorderCfg(RecorderTermCfg):
    """Configuration of :class:`PreStepDatagenInfoRecorder`."""

    class_type: type = PreStepDatagenInfoRecorder


@configclass
class PreStepSubtaskTermsObservationsRecorderCfg(RecorderTermCfg):
    """Configuration of :class:`PreStepSubtaskTermsObservationsRecorder`."""

    class_type: type = PreStepSubtaskTermsObservationsRecorder


@configclass
class MimicRecorderManagerCfg(ActionStateRecorderManagerCfg):
    """The action and state recorders plus Mimic's datagen info."""

    record_pre_step_datagen_info = PreStepDatagenInfoRecorderCfg()
    record_pre_step_subtask_term_signals = PreStepSubtaskTermsObservationsRecorderCfg()
