"""Tests of the env slice: managers, step/reset order of the recorder hooks, terminations, spaces and config checks.

The env runs a tiny scene double: one "robot" whose position integrates the commanded velocity, and one "box"
that never moves.
"""

from __future__ import annotations

import math

import pytest
import torch

from isaaclab.envs import (
    ActionTerm,
    ActionTermCfg,
    InteractiveScene,
    InteractiveSceneCfg,
    ManagerBasedRLEnv,
    ManagerBasedRLEnvCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    SimulationCfg,
    TerminationTermCfg,
)
from isaaclab.envs.interactive_scene import grid_origins
from isaaclab.envs.termination_manager import TerminationManager
from isaaclab.managers import RecorderManagerBaseCfg, RecorderTerm, RecorderTermCfg
from isaaclab.utils import MISSING, configclass


class PointScene(InteractiveScene):
    """A point robot moving at its commanded velocity, plus a static box."""

    def __init__(self, cfg, device):
        super().__init__(cfg, device)
        self.pos = torch.zeros(self.num_envs, 3, device=device)
        self.vel = torch.zeros(self.num_envs, 3, device=device)
        self.physics_steps = 0

    def reset(self, env_ids):
        self.pos[env_ids] = torch.rand(len(env_ids), 3, generator=self.generator, device=self.device)
        self.vel[env_ids] = 0.0

    def step(self, dt):
        self.pos = self.pos + self.vel * dt
        self.physics_steps += 1

    def get_state(self, is_relative=False):
        offset = 0.0 if is_relative else self.env_origins
        identity = torch.tensor([0.0, 0.0, 0.0, 1.0], device=self.device).expand(self.num_envs, 4)
        return {
            "articulation": {"robot": {"root_pose": torch.cat((self.pos + offset, identity), -1)}},
            "rigid_object": {"box": {"root_pose": torch.cat((offset + torch.ones(self.num_envs, 3), identity), -1)}},
        }

    def reset_to(self, state, env_ids=None, is_relative=False):
        ids = slice(None) if env_ids is None else env_ids
        offset = 0.0 if is_relative else self.env_origins[ids]
        self.pos[ids] = state["articulation"]["robot"]["root_pose"][:, :3] - offset


class VelocityAction(ActionTerm):
    def __init__(self, cfg, env):
        super().__init__(cfg, env)
        self._raw = torch.zeros(self.num_envs, 3, device=self.device)

    @property
    def action_dim(self):
        return 3

    @property
    def raw_actions(self):
        return self._raw

    @property
    def processed_actions(self):
        return self._raw * 2.0

    def process_actions(self, actions):
        self._raw[:] = actions

    def apply_actions(self):
        self._env.scene.vel = self.processed_actions.clone()


def robot_pos(env):
    return env.scene.pos.clone()


def far_away(env, limit: float):
    return env.scene.pos.norm(dim=-1) > limit


def episode_over(env):
    return env.episode_length_buf >= env.max_episode_length


@configclass
class PolicyCfg(ObservationGroupCfg):
    pos = ObservationTermCfg(func=robot_pos)
    last = ObservationTermCfg(func=lambda env: env.action_manager.action.clone())
    concatenate_terms = False


@configclass
class FlatCfg(ObservationGroupCfg):
    pos = ObservationTermCfg(func=robot_pos)
    last = ObservationTermCfg(func=lambda env: env.action_manager.action.clone())


@configclass
class ObservationsCfg:
    policy = PolicyCfg()
    flat = FlatCfg()


@configclass
class ActionsCfg:
    move = ActionTermCfg(class_type=VelocityAction)


@configclass
class TerminationsCfg:
    time_out = TerminationTermCfg(func=episode_over, time_out=True)
    success = TerminationTermCfg(func=far_away, params={"limit": 100.0})


@configclass
class PointEnvCfg(ManagerBasedRLEnvCfg):
    sim = SimulationCfg(dt=0.1, render_interval=2)
    decimation = 2
    episode_length_s = 1.0  # 5 steps
    scene = InteractiveSceneCfg(class_type=PointScene, num_envs=3, env_spacing=2.0)
    actions = ActionsCfg()
    observations = ObservationsCfg()
    terminations = TerminationsCfg()
    seed = 7


class CallLog(RecorderTerm):
    """A recorder term that logs every callback, with the env ids and what the env showed at that moment."""

    log: list = []

    def record_pre_reset(self, env_ids):
        CallLog.log.append(("pre_reset", list(env_ids), self._env.scene.pos[env_ids].clone()))
        return None, None

    def record_post_reset(self, env_ids):
        CallLog.log.append(("post_reset", list(env_ids), self._env.scene.pos[env_ids].clone()))
        return None, None

    def record_pre_step(self):
        obs = self._env.obs_buf["policy"]["pos"].clone()
        CallLog.log.append(("pre_step", self._env.scene.physics_steps, obs, self._env.action_manager.action.clone()))
        return None, None

    def record_post_physics_decimation_step(self):
        CallLog.log.append(("post_physics", self._env.scene.physics_steps))
        return None, None

    def record_post_step(self):
        CallLog.log.append(("post_step", self._env.scene.physics_steps, self._env.obs_buf["policy"]["pos"].clone()))
        return None, None

    def close(self, file_path):
        CallLog.log.append(("close", file_path))


@configclass
class CallLogCfg(RecorderTermCfg):
    class_type: type = CallLog


@configclass
class CallLogRecorderCfg(RecorderManagerBaseCfg):
    call_log = CallLogCfg()


@pytest.fixture
def make_env(tmp_path):
    envs = []

    def make(record: bool = False, **changes):
        cfg = PointEnvCfg(**changes)
        if record:
            CallLog.log = []
            cfg.recorders = CallLogRecorderCfg(dataset_export_dir_path=str(tmp_path), dataset_filename="log")
        env = ManagerBasedRLEnv(cfg)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()


def names(log):
    return [entry[0] for entry in log]


def test_step_calls_recorder_hooks_in_upstream_order(make_env):
    env = make_env(record=True)
    env.reset()
    CallLog.log.clear()
    env.step(torch.ones(3, 3))
    assert names(CallLog.log) == ["pre_step", "post_physics", "post_physics", "post_step"]
    # one physics step before each post-physics hook; the post-step observations come after the physics
    assert [entry[1] for entry in CallLog.log[1:3]] == [1, 2]
    assert torch.allclose(CallLog.log[3][2], env.scene.pos)


def test_pre_step_sees_processed_action_and_observations_from_before_the_step(make_env):
    env = make_env(record=True)
    obs, _ = env.reset()
    before = obs["policy"]["pos"].clone()
    action = torch.full((3, 3), 0.5)
    env.step(action)
    pre_step = next(entry for entry in CallLog.log if entry[0] == "pre_step")
    assert torch.equal(pre_step[2], before)
    assert torch.equal(pre_step[3], action)


def test_done_envs_reset_between_pre_and_post_reset_hooks(make_env):
    env = make_env(record=True)
    env.reset()
    for _ in range(env.max_episode_length - 1):
        _, _, terminated, timed_out, _ = env.step(torch.zeros(3, 3))
        assert not (terminated | timed_out).any()
    CallLog.log.clear()
    pos_before = env.scene.pos.clone()
    _, _, terminated, timed_out, _ = env.step(torch.zeros(3, 3))
    assert timed_out.all() and not terminated.any()
    assert names(CallLog.log) == ["pre_step", "post_physics", "post_physics", "post_step", "pre_reset", "post_reset"]
    assert CallLog.log[4][1] == [0, 1, 2]
    assert torch.equal(CallLog.log[4][2], pos_before)
    assert not torch.equal(CallLog.log[5][2], pos_before)  # the reset randomised the positions
    assert (env.episode_length_buf == 0).all()


def test_terminated_env_alone_is_reset(make_env):
    env = make_env(record=True)
    env.reset()
    CallLog.log.clear()
    action = torch.zeros(3, 3)
    action[1] = 1000.0  # env 1 leaves the 100 m sphere in one step
    _, _, terminated, timed_out, _ = env.step(action)
    assert terminated.tolist() == [False, True, False] and not timed_out.any()
    assert env.termination_manager.get_term("success").tolist() == [False, True, False]
    pre_reset = [entry for entry in CallLog.log if entry[0] == "pre_reset"]
    assert [entry[1] for entry in pre_reset] == [[1]]
    assert env.episode_length_buf.tolist() == [1, 0, 1]
    assert env.action_manager.action[1].abs().sum() == 0  # the reset env's action was cleared


def test_reset_records_around_reset_of_given_envs(make_env):
    env = make_env(record=True)
    CallLog.log.clear()
    env.reset(env_ids=[2])
    assert names(CallLog.log) == ["pre_reset", "post_reset"]
    assert CallLog.log[0][1] == [2] and CallLog.log[1][1] == [2]


def test_reset_to_restores_state_and_records(make_env):
    env = make_env(record=True)
    env.reset()
    state = env.scene.get_state(is_relative=True)
    env.step(torch.ones(3, 3))
    CallLog.log.clear()
    obs, _ = env.reset_to(state, None, is_relative=True)
    assert names(CallLog.log) == ["pre_reset", "post_reset"]
    assert torch.allclose(obs["policy"]["pos"], state["articulation"]["robot"]["root_pose"][:, :3])


def test_close_closes_the_recorder_once(make_env, tmp_path):
    env = make_env(record=True)
    env.close()
    env.close()
    assert [entry for entry in CallLog.log if entry[0] == "close"] == [("close", str(tmp_path / "log"))]


def test_without_recorder_terms_recording_is_inert(make_env, tmp_path):
    env = make_env()
    assert env.recorder_manager.active_terms == []
    env.reset()
    env.step(torch.zeros(3, 3))
    env.close()
    assert list(tmp_path.iterdir()) == []


def test_observation_groups_dict_and_concatenated(make_env):
    env = make_env()
    obs, _ = env.reset()
    assert set(obs["policy"]) == {"pos", "last"}
    assert obs["flat"].shape == (3, 6)
    assert torch.equal(obs["flat"][:, :3], obs["policy"]["pos"])
    with pytest.raises(KeyError, match="Unknown observation group"):
        env.observation_manager.compute_group("nope")


def test_action_manager_tracks_current_and_previous_actions(make_env):
    env = make_env()
    env.reset()
    first, second = torch.full((3, 3), 0.1), torch.full((3, 3), 0.2)
    env.step(first)
    env.step(second)
    assert torch.equal(env.action_manager.action, second)
    assert torch.equal(env.action_manager.prev_action, first)
    assert torch.equal(env.action_manager.get_term("move").processed_actions, second * 2.0)
    assert list(env.action_manager._terms) == ["move"]
    with pytest.raises(ValueError, match="Invalid action shape"):
        env.step(torch.zeros(3, 4))


def test_decimation_integrates_physics(make_env):
    env = make_env()
    env.reset()
    start = env.scene.pos.clone()
    env.step(torch.ones(3, 3))  # velocity 2 m/s for decimation * dt = 0.2 s
    assert torch.allclose(env.scene.pos - start, torch.full((3, 3), 0.4))
    assert env.step_dt == pytest.approx(0.2) and env.physics_dt == pytest.approx(0.1)
    assert env.max_episode_length == 5


def test_terminations_none_never_ends_episodes(make_env):
    env = make_env(terminations=None)
    assert env.termination_manager.active_terms == []
    for _ in range(8):
        _, _, terminated, timed_out, _ = env.step(torch.zeros(3, 3))
        assert not (terminated | timed_out).any()
    assert (env.episode_length_buf == 8).all()


def test_termination_manager_rejects_wrong_term_type():
    @configclass
    class BadTerminations:
        oops = ObservationTermCfg(func=robot_pos)

    with pytest.raises(TypeError, match="TerminationTermCfg"):
        TerminationManager(BadTerminations(), type("Env", (), {"num_envs": 1, "device": "cpu"})())


def test_gym_spaces_describe_actions_and_observations(make_env):
    env = make_env()
    assert env.single_action_space.shape == (3,)
    assert env.action_space.shape == (3, 3)
    assert env.single_observation_space["policy"]["pos"].shape == (3,)
    assert env.observation_space["flat"].shape == (3, 6)


def test_seed_makes_resets_reproducible(make_env):
    first = make_env().scene.pos.clone()
    second = make_env().scene.pos.clone()
    other = make_env(seed=8).scene.pos.clone()
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_config_errors_are_reported(make_env):
    with pytest.raises(TypeError, match="decimation"):
        ManagerBasedRLEnv(PointEnvCfg(decimation=MISSING))
    with pytest.raises(ValueError, match="num_envs"):
        make_env(scene=InteractiveSceneCfg(class_type=PointScene, num_envs=0, env_spacing=1.0))
    with pytest.raises(ValueError, match="decimation"):
        make_env(decimation=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is missing")
def test_unavailable_cuda_device_is_reported(make_env):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        make_env(sim=SimulationCfg(dt=0.1, device="cuda"))


def test_grid_origins_are_spaced_and_centred():
    origins = grid_origins(4, 2.0, "cpu")
    assert origins.shape == (4, 3)
    assert torch.allclose(origins.mean(dim=0), torch.zeros(3))
    distances = torch.cdist(origins, origins) + torch.eye(4) * 10
    assert math.isclose(float(distances.min()), 2.0, rel_tol=1e-6)
