"""Each physics rule of the stacking scene: grasp, carry, release onto the table or a cube, tipping off, falling."""

from __future__ import annotations

import math

import pytest
import torch
from stack_test_utils import CLOSE, OPEN, SIZE, act, cube, make_env, set_scene

import isaaclab.utils.math as math_utils

TABLE_Z = SIZE / 2


@pytest.fixture
def env():
    env = make_env(num_envs=1, terminations=None)
    yield env
    env.close()


def grasp_cube_2(env, yaw=0.0, offset=(0.0, 0.0, 0.0)):
    """TCP at cube_2 (plus offset), open; then close for a few steps."""
    cube_pos = [0.5, 0.0, TABLE_Z]
    tcp = [c + o for c, o in zip(cube_pos, offset)]
    set_scene(env, tcp, eef_yaw=yaw, cubes={"cube_2": (cube_pos, 0.0)})
    act(env, gripper=CLOSE, steps=4)


def test_closing_around_an_aligned_cube_grasps_it(env):
    grasp_cube_2(env, yaw=0.1, offset=(0.01, -0.01, 0.01))
    assert env.scene.held.tolist() == [1]
    assert torch.allclose(env.scene.finger_pos, torch.full((1, 2), SIZE / 2))
    assert env.obs_buf["subtask_terms"]["grasp_1"].tolist() == [True]
    assert env.obs_buf["subtask_terms"]["grasp_2"].tolist() == [False]


@pytest.mark.parametrize(
    "yaw, offset",
    [(math.radians(40.0), (0.0, 0.0, 0.0)), (0.0, (0.0, 0.0, 0.03)), (0.0, (0.03, 0.0, 0.0))],
    ids=["misaligned", "too_high", "off_centre"],
)
def test_no_grasp_when_misaligned_or_away_from_the_cube(env, yaw, offset):
    grasp_cube_2(env, yaw=yaw, offset=offset)
    assert env.scene.held.tolist() == [-1]
    assert torch.allclose(env.scene.finger_pos, torch.zeros(1, 2))  # fingers closed on nothing


def test_a_cube_aligned_at_90_degrees_is_grasped(env):
    grasp_cube_2(env, yaw=math.pi / 2)
    assert env.scene.held.tolist() == [1]


def test_held_cube_moves_with_the_gripper(env):
    grasp_cube_2(env)
    offset = cube(env, "cube_2") - env.scene.eef_pos[0]
    _, _, _, _, _ = act(env, dpos=(0.5, 0.3, 1.0), drot=(0.0, 0.0, 1.0), gripper=CLOSE)
    assert env.scene.cube_lin_vel[0, 1].norm() > 0.1  # moving with the gripper
    act(env, dpos=(0.5, 0.3, 1.0), drot=(0.0, 0.0, 1.0), gripper=CLOSE, steps=4)
    rotated = math_utils.quat_apply(
        env.scene.eef_quat[0],
        math_utils.quat_apply(math_utils.quat_conjugate(torch.tensor([1.0, 0.0, 0.0, 0.0])), offset),
    )
    assert torch.allclose(cube(env, "cube_2"), env.scene.eef_pos[0] + rotated, atol=1e-5)
    assert cube(env, "cube_2")[2] > TABLE_Z + 0.09


def test_released_cube_falls_flat_onto_the_table(env):
    grasp_cube_2(env)
    act(env, dpos=(0.0, 0.0, 1.0), drot=(0.0, 1.0, 0.0), gripper=CLOSE, steps=5)  # lift 10 cm, tilt 0.5 rad
    act(env, gripper=OPEN)
    assert env.scene.held.tolist() == [-1]
    assert env.scene.cube_lin_vel[0, 1, 2] < 0.0  # falling
    act(env, gripper=OPEN, steps=10)
    assert cube(env, "cube_2")[2].item() == pytest.approx(TABLE_Z, abs=1e-6)
    assert env.scene.cube_lin_vel[0, 1].abs().max() == 0.0
    body_z = math_utils.matrix_from_quat(env.scene.cube_quat[0, 1])[2]  # world z of each body axis
    assert body_z.abs().max().item() == pytest.approx(1.0, abs=1e-5)  # an axis is vertical again


def carry_cube_2_over_cube_1(env, offset_xy):
    """Hold cube_2 5 mm above cube_1 (shifted by offset_xy) and open the gripper."""
    base = [0.5, 0.0, TABLE_Z]
    above = [base[0] + offset_xy[0], base[1] + offset_xy[1], TABLE_Z + SIZE + 0.005]
    set_scene(env, above, fingers=SIZE / 2, cubes={"cube_1": (base, 0.3), "cube_2": (above, 0.0)})
    assert env.scene.held.tolist() == [1]  # fingers closed on the cube at the TCP: held
    act(env, gripper=CLOSE, steps=2)
    assert cube(env, "cube_2")[2].item() == pytest.approx(above[2])
    act(env, gripper=OPEN, steps=10)


def test_released_cube_rests_on_a_well_centred_cube_below(env):
    carry_cube_2_over_cube_1(env, (0.012, -0.01))
    assert (cube(env, "cube_2")[2] - cube(env, "cube_1")[2]).item() == pytest.approx(SIZE, abs=1e-6)
    assert env.obs_buf["subtask_terms"]["stack_1"].tolist() == [True]


def test_badly_placed_cube_tips_off_onto_the_table(env):
    carry_cube_2_over_cube_1(env, (0.03, 0.0))
    cube_1, cube_2 = cube(env, "cube_1"), cube(env, "cube_2")
    assert cube_2[2].item() == pytest.approx(TABLE_Z, abs=1e-6)
    assert (cube_2[:2] - cube_1[:2]).norm() >= SIZE * math.sqrt(2) - 1e-5  # no overlap whatever the yaws
    assert cube_2[0] > cube_1[0]  # it fell off on the side it overhung
    assert env.obs_buf["subtask_terms"]["stack_1"].tolist() == [False]


def test_cube_falls_when_the_cube_under_it_is_taken_away(env):
    base = [0.5, 0.0, TABLE_Z]
    set_scene(env, base, cubes={"cube_1": (base, 0.0), "cube_2": ([0.5, 0.0, TABLE_Z + SIZE], 0.0)})
    act(env, steps=2)
    assert cube(env, "cube_2")[2].item() == pytest.approx(TABLE_Z + SIZE)  # at rest on cube_1
    act(env, gripper=CLOSE, steps=4)  # grasps cube_1 (the gripper passes through cube_2)
    assert env.scene.held.tolist() == [0]
    act(env, dpos=(1.0, 0.0, 1.0), gripper=CLOSE, steps=5)
    act(env, dpos=(1.0, 0.0, 0.0), gripper=CLOSE, steps=10)
    assert cube(env, "cube_2")[2].item() == pytest.approx(TABLE_Z, abs=1e-6)


def test_workspace_clamps_the_commanded_position(env):
    set_scene(env, [0.5, 0.0, 0.05])
    act(env, dpos=(0.0, 0.0, -1.0), steps=5)
    assert env.scene.eef_pos[0, 2].item() == pytest.approx(env.scene.cfg.workspace_min[2])


def test_actions_are_clipped_and_scaled(env):
    set_scene(env, [0.5, 0.0, 0.3])
    act(env, dpos=(5.0, 0.0, -0.5))
    assert torch.allclose(env.scene.eef_pos[0], torch.tensor([0.52, 0.0, 0.29]), atol=1e-6)
    processed = env.action_manager.get_term("arm_action").processed_actions[0]
    assert torch.allclose(processed[:3], torch.tensor([0.02, 0.0, -0.01]))


def test_success_needs_both_stacks_and_an_open_released_gripper(env):
    cubes = {
        "cube_1": ([0.5, 0.1, TABLE_Z], 0.2),
        "cube_2": ([0.5, 0.1, TABLE_Z + SIZE], 0.0),
        "cube_3": ([0.505, 0.1, TABLE_Z + 2 * SIZE], 0.1),
    }
    success = env.cfg.__class__().terminations.success
    set_scene(env, [0.5, -0.2, 0.3], cubes=cubes)
    act(env, steps=2)
    assert success.func(env, **success.params).tolist() == [True]
    set_scene(env, [0.5, 0.1, TABLE_Z + 2 * SIZE], fingers=SIZE / 2, cubes=cubes)  # holding cube_3
    act(env, gripper=CLOSE)
    assert env.scene.held.tolist() == [2]
    assert success.func(env, **success.params).tolist() == [False]
    cubes["cube_3"] = ([0.6, 0.1, TABLE_Z], 0.0)
    set_scene(env, [0.5, -0.2, 0.3], cubes=cubes)
    act(env, steps=2)
    assert success.func(env, **success.params).tolist() == [False]
