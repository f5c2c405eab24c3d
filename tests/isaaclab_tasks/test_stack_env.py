"""The stacking task as an env: registration, determinism, resets, spaces, signals, cameras and the expert."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from stack_test_utils import SIZE, TASK, VISUOMOTOR_TASK, act, make_env, set_scene

from isaaclab.envs import ManagerBasedRLEnv

from isaaclab_tasks.manager_based.manipulation.stack.renderer import focal_length, look_at_rotation
from isaaclab_tasks.manager_based.manipulation.stack.scripted_expert import ScriptedStackExpert
from isaaclab_tasks.utils import parse_env_cfg

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]
POLICY_SHAPES = {
    "actions": (7,),
    "eef_pos": (3,),
    "eef_quat": (4,),
    "gripper_pos": (2,),
    "object": (39,),
    "cube_positions": (9,),
    "cube_orientations": (12,),
}


def run_expert(env, steps: int):
    """Run the scripted expert; returns the first step each subtask signal and success fired (-1: never)."""
    expert = ScriptedStackExpert.from_env(env)
    obs, _ = env.reset()
    success = env.cfg.__class__().terminations.success
    first = {name: torch.full((env.num_envs,), -1) for name in ("grasp_1", "stack_1", "grasp_2", "success")}
    for step in range(steps):
        obs, *_ = env.step(expert.act(obs["policy"]))
        fired = dict(obs["subtask_terms"])
        fired["success"] = success.func(env, **success.params)
        for name, value in fired.items():
            first[name] = torch.where((first[name] < 0) & value.cpu(), torch.tensor(step), first[name])
    return first


def test_tasks_are_registered_with_a_config_entry_point():
    for task in (TASK, VISUOMOTOR_TASK):
        assert "env_cfg_entry_point" in gym.spec(task).kwargs
    cfg = parse_env_cfg(TASK, device="cpu", num_envs=5)
    assert cfg.scene.num_envs == 5 and cfg.sim.device == "cpu"
    assert cfg.terminations.success is not None and cfg.terminations.time_out.time_out


def test_parse_env_cfg_rejects_unknown_tasks_and_bad_num_envs():
    with pytest.raises(ValueError, match=f"Unknown task 'Isaac-Nope-v0'.*{TASK}"):
        parse_env_cfg("Isaac-Nope-v0")
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="num_envs"):
            parse_env_cfg(TASK, num_envs=bad)


def test_gym_make_builds_the_rl_env():
    env = gym.make(TASK, cfg=parse_env_cfg(TASK, num_envs=2)).unwrapped
    try:
        assert isinstance(env, ManagerBasedRLEnv)
        assert env.action_space.shape == (2, 7)
        assert env.spec.id == TASK
    finally:
        env.close()


@pytest.mark.parametrize("device", DEVICES)
def test_observation_and_state_shapes_and_dtypes(device):
    env = make_env(num_envs=3, device=device)
    try:
        obs, _ = env.reset()
        policy = obs["policy"]
        assert set(policy) == set(POLICY_SHAPES)
        for name, shape in POLICY_SHAPES.items():
            assert policy[name].shape == (3, *shape), name
            assert policy[name].dtype == torch.float32 and policy[name].device.type == device
        assert {name: value.dtype for name, value in obs["subtask_terms"].items()} == dict.fromkeys(
            ("grasp_1", "stack_1", "grasp_2"), torch.bool
        )
        state = env.scene.get_state(is_relative=True)
        robot = state["articulation"]["robot"]
        assert {k: tuple(v.shape) for k, v in robot.items()} == {
            "root_pose": (3, 7),
            "root_velocity": (3, 6),
            "joint_position": (3, 2),
            "joint_velocity": (3, 2),
        }
        assert set(state["rigid_object"]) == {"cube_1", "cube_2", "cube_3"}
        for cube_state in state["rigid_object"].values():
            assert cube_state["root_pose"].shape == (3, 7) and cube_state["root_velocity"].shape == (3, 6)
        quat_norm = robot["root_pose"][:, 3:].norm(dim=-1)
        assert torch.allclose(quat_norm, torch.ones_like(quat_norm))
    finally:
        env.close()


def test_world_state_adds_the_env_origins():
    env = make_env(num_envs=4)
    try:
        world = env.scene.get_state(is_relative=False)["rigid_object"]["cube_1"]["root_pose"]
        local = env.scene.get_state(is_relative=True)["rigid_object"]["cube_1"]["root_pose"]
        assert torch.allclose(world[:, :3] - local[:, :3], env.scene.env_origins)
        assert len({tuple(o.tolist()) for o in env.scene.env_origins}) == 4
    finally:
        env.close()


def test_reset_places_cubes_apart_inside_the_spawn_area():
    env = make_env(num_envs=200, seed=3)
    try:
        env.reset()
        pos = env.scene.cube_pos
        cfg = env.scene.cfg
        distances = torch.cdist(pos[..., :2], pos[..., :2]) + torch.eye(3) * 10
        assert distances.min() >= cfg.min_cube_distance
        assert (pos[..., 0] >= cfg.spawn_x_range[0]).all() and (pos[..., 0] <= cfg.spawn_x_range[1]).all()
        assert (pos[..., 1] >= cfg.spawn_y_range[0]).all() and (pos[..., 1] <= cfg.spawn_y_range[1]).all()
        assert torch.allclose(pos[..., 2], torch.full_like(pos[..., 2], SIZE / 2))
        assert pos[..., :2].std(dim=0).min() > 0.05  # spread out, not all the same
    finally:
        env.close()


def test_impossible_spawn_area_is_reported():
    with pytest.raises(RuntimeError, match="Could not place 3 cubes"):
        make_env(scene__spawn_x_range=(0.5, 0.52), scene__spawn_y_range=(0.0, 0.02))


def rollout_states(seed: int, steps: int = 60):
    env = make_env(num_envs=4, seed=seed)
    try:
        expert = ScriptedStackExpert.from_env(env)
        obs, _ = env.reset()
        for _ in range(steps):
            obs, *_ = env.step(expert.act(obs["policy"]))
        return torch.cat([value.reshape(4, -1) for value in obs["policy"].values()], dim=-1)
    finally:
        env.close()


def test_same_seed_gives_the_same_rollout_and_another_seed_does_not():
    first, second, other = rollout_states(11), rollout_states(11), rollout_states(12)
    assert torch.equal(first, second)
    assert not torch.allclose(first, other)


def test_time_out_ends_the_episode_after_episode_length():
    env = make_env(num_envs=2, episode_length_s=0.5)  # 10 steps at 20 Hz
    try:
        env.reset()
        for _ in range(9):
            _, _, terminated, timed_out, _ = act(env)
            assert not (terminated | timed_out).any()
        _, _, terminated, timed_out, _ = act(env)
        assert timed_out.all() and not terminated.any()
        assert (env.episode_length_buf == 0).all()
    finally:
        env.close()


def test_subtask_signals_and_success_fire_in_task_order_and_expert_succeeds():
    """The scripted expert stacks in >= 9 of 10 seeded episodes within 400 steps; signals fire in order."""
    env = make_env(num_envs=10, seed=0, terminations__success=None)
    try:
        first = run_expert(env, steps=400)
    finally:
        env.close()
    done = first["success"] >= 0
    assert int(done.sum()) >= 9
    assert (first["grasp_1"][done] < first["stack_1"][done]).all()
    assert (first["stack_1"][done] < first["grasp_2"][done]).all()
    assert (first["grasp_2"][done] < first["success"][done]).all()


def test_success_termination_resets_the_env():
    env = make_env(num_envs=1)
    try:
        cubes = {
            "cube_1": ([0.5, 0.1, SIZE / 2], 0.0),
            "cube_2": ([0.5, 0.1, 1.5 * SIZE], 0.0),
            "cube_3": ([0.5, 0.1, 2.5 * SIZE], 0.0),
        }
        set_scene(env, [0.5, -0.2, 0.3], cubes=cubes)
        _, _, terminated, timed_out, _ = act(env)
        assert terminated.tolist() == [True] and timed_out.tolist() == [False]
        assert env.scene.cube_pos[0, 2, 2].item() == pytest.approx(SIZE / 2)  # re-randomised on the table
    finally:
        env.close()


def project(cfg, point: torch.Tensor) -> tuple[int, int]:
    """Pixel (row, column) of a point in a fixed camera."""
    rotation = look_at_rotation(torch.tensor(cfg.pos), torch.tensor(cfg.look_at))
    cam = rotation.T @ (point - torch.tensor(cfg.pos))
    focal = focal_length(cfg)
    return int(focal * cam[1] / cam[2] + cfg.height / 2), int(focal * cam[0] / cam[2] + cfg.width / 2)


@pytest.fixture
def camera_env():
    cfg = parse_env_cfg(VISUOMOTOR_TASK, num_envs=2)
    cfg.seed = 0
    cfg.terminations = None
    for camera in cfg.scene.cameras.values():
        camera.height, camera.width = 48, 64
    env = gym.make(VISUOMOTOR_TASK, cfg=cfg).unwrapped
    yield env
    env.close()


def test_camera_images_show_the_cubes_and_follow_the_gripper(camera_env):
    env = camera_env
    cubes = {"cube_1": ([0.5, 0.0, SIZE / 2], 0.0), "cube_2": ([0.6, 0.15, SIZE / 2], 0.0)}
    obs, _ = set_scene(env, [0.5, 0.0, 0.2], cubes=cubes)
    table, wrist = obs["policy"]["table_cam"], obs["policy"]["wrist_cam"]
    assert table.shape == (2, 48, 64, 3) and wrist.shape == (2, 48, 64, 3)
    assert table.dtype == torch.uint8 and wrist.dtype == torch.uint8
    row, col = project(env.scene.cfg.cameras["table_cam"], torch.tensor([0.5, 0.0, SIZE]))
    blue = table[0, row, col].int()
    assert blue[2] > blue[0] + 60  # cube_1 is blue
    row, col = project(env.scene.cfg.cameras["table_cam"], torch.tensor([0.6, 0.15, SIZE]))
    red = table[0, row, col].int()
    assert red[0] > red[2] + 60  # cube_2 is red
    assert torch.equal(table[0], table[1])  # same scene in both envs
    act(env, dpos=(0.0, 1.0, 0.0), steps=5)
    moved = env.obs_buf["policy"]["wrist_cam"]
    assert (moved.int() - wrist.int()).abs().float().mean() > 1.0  # the wrist view moved with the gripper


def test_nearer_boxes_hide_farther_ones_and_each_env_renders_its_own_scene(camera_env):
    env = camera_env
    camera = env.scene.cfg.cameras["table_cam"]
    far = torch.tensor([0.45, 0.0, SIZE / 2])
    near = far + 0.12 * (torch.tensor(camera.pos) - far) / (torch.tensor(camera.pos) - far).norm()
    set_scene(env, [0.5, 0.3, 0.4], cubes={"cube_1": (far.tolist(), 0.0)}, env_ids=[0])
    set_scene(env, [0.5, 0.3, 0.4], cubes={"cube_1": (far.tolist(), 0.0), "cube_2": (near.tolist(), 0.0)}, env_ids=[1])
    table = env.scene.render("table_cam").int()
    row, col = project(camera, far)
    assert table[0, row, col, 2] > table[0, row, col, 0] + 60  # env 0: the blue cube_1
    assert table[1, row, col, 0] > table[1, row, col, 2] + 60  # env 1: the red cube_2 in front of it
