"""Tests for the pose and rotation math in :mod:`isaaclab.utils.math`."""

from __future__ import annotations

import math

import pytest
import torch

import isaaclab.utils.math as math_utils

ATOL = 1e-5


def random_quats(*shape: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return math_utils.normalize(torch.randn(*shape, 4, generator=gen, dtype=torch.float64))


def random_poses(*shape: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed + 1)
    pos = torch.randn(*shape, 3, generator=gen, dtype=torch.float64)
    return math_utils.make_pose(pos, math_utils.matrix_from_quat(random_quats(*shape, seed=seed)))


def same_rotation(q1: torch.Tensor, q2: torch.Tensor) -> bool:
    """Quaternions q and -q are the same rotation."""
    return bool((q1 * q2).sum(-1).abs().sub(1.0).abs().max() < ATOL)


# a rotation of 90 degrees about z, (x, y, z, w)
QUAT_Z90 = torch.tensor([0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)], dtype=torch.float64)


def test_known_rotation_matrix_and_apply():
    rot = math_utils.matrix_from_quat(QUAT_Z90)
    expected = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(rot, expected, atol=ATOL, rtol=0)
    x_axis = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(math_utils.quat_apply(QUAT_Z90, x_axis), expected[:, 0], atol=ATOL, rtol=0)
    # identity is (0, 0, 0, 1): scalar last
    identity = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(math_utils.matrix_from_quat(identity), torch.eye(3, dtype=torch.float64))


def test_quat_matrix_round_trip_batched_and_canonical():
    quats = random_quats(5, 7)
    rots = math_utils.matrix_from_quat(quats)
    assert rots.shape == (5, 7, 3, 3)
    back = math_utils.quat_from_matrix(rots)
    assert back.shape == (5, 7, 4)
    assert same_rotation(back, quats)
    assert (back[..., 3] >= 0).all()
    torch.testing.assert_close(back.norm(dim=-1), torch.ones(5, 7, dtype=torch.float64))


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_quat_from_matrix_half_turns(axis: int):
    # w = 0: the pivot must switch to x, y or z
    quat = torch.zeros(4, dtype=torch.float64)
    quat[axis] = 1.0
    back = math_utils.quat_from_matrix(math_utils.matrix_from_quat(quat))
    assert same_rotation(back, quat)


def test_quat_mul_composes_like_matrices_and_inverse():
    q1, q2 = random_quats(10, seed=1), random_quats(10, seed=2)
    product = math_utils.quat_mul(q1, q2)
    torch.testing.assert_close(
        math_utils.matrix_from_quat(product),
        math_utils.matrix_from_quat(q1) @ math_utils.matrix_from_quat(q2),
        atol=ATOL,
        rtol=0,
    )
    identity = math_utils.quat_mul(q1, math_utils.quat_inv(q1))
    torch.testing.assert_close(identity, torch.tensor([0.0, 0, 0, 1], dtype=torch.float64).expand(10, 4))
    vec = torch.randn(10, 3, dtype=torch.float64)
    rotated = math_utils.quat_apply(q1, vec)
    torch.testing.assert_close(rotated, (math_utils.matrix_from_quat(q1) @ vec[..., None])[..., 0])


def test_axis_angle_round_trip_and_known_value():
    rotvec = torch.tensor([[0.0, 0.0, math.pi / 2], [0.3, -0.2, 0.5], [0.0, 0.0, 0.0], [1e-8, 0.0, 0.0]])
    quats = math_utils.quat_from_axis_angle(rotvec.double())
    torch.testing.assert_close(quats[0], QUAT_Z90, atol=ATOL, rtol=0)
    torch.testing.assert_close(quats[2], torch.tensor([0.0, 0, 0, 1], dtype=torch.float64))
    torch.testing.assert_close(math_utils.axis_angle_from_quat(quats), rotvec.double(), atol=ATOL, rtol=0)
    # -q is the same rotation: same rotation vector, angle within [0, pi]
    torch.testing.assert_close(math_utils.axis_angle_from_quat(-quats), rotvec.double(), atol=ATOL, rtol=0)
    angle = torch.tensor([math.pi / 2], dtype=torch.float64)
    axis = torch.tensor([[0.0, 0.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(math_utils.quat_from_angle_axis(angle, axis)[0], QUAT_Z90)


def test_slerp_endpoints_midpoint_and_shortest_arc():
    q1, q2 = random_quats(6, seed=3), random_quats(6, seed=4)
    assert same_rotation(math_utils.quat_slerp(q1, q2, 0.0), q1)
    assert same_rotation(math_utils.quat_slerp(q1, q2, 1.0), q2)
    identity = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    half = math_utils.quat_slerp(identity, QUAT_Z90, 0.5)
    expected = math_utils.quat_from_axis_angle(torch.tensor([0.0, 0.0, math.pi / 4], dtype=torch.float64))
    assert same_rotation(half, expected)
    # -QUAT_Z90 is the same rotation: the midpoint must still be 45 degrees, not 135
    assert same_rotation(math_utils.quat_slerp(identity, -QUAT_Z90, 0.5), expected)
    # equal quaternions stay put (no division by zero)
    assert same_rotation(math_utils.quat_slerp(q1, q1, 0.3), q1)
    # per-element tau
    taus = torch.linspace(0, 1, 6, dtype=torch.float64)
    out = math_utils.quat_slerp(q1, q2, taus)
    assert same_rotation(out[0], q1[0]) and same_rotation(out[-1], q2[-1])


def test_make_unmake_pose_and_inverse():
    pos = torch.randn(4, 3, dtype=torch.float64)
    rot = math_utils.matrix_from_quat(random_quats(4))
    pose = math_utils.make_pose(pos, rot)
    assert pose.shape == (4, 4, 4)
    torch.testing.assert_close(pose[:, 3], torch.tensor([0.0, 0, 0, 1], dtype=torch.float64).expand(4, 4))
    back_pos, back_rot = math_utils.unmake_pose(pose)
    torch.testing.assert_close(back_pos, pos)
    torch.testing.assert_close(back_rot, rot)
    # quaternion rotations are accepted too
    torch.testing.assert_close(math_utils.make_pose(pos, random_quats(4)), pose)
    torch.testing.assert_close(math_utils.pose_inv(pose) @ pose, torch.eye(4, dtype=torch.float64).expand(4, 4, 4))
    torch.testing.assert_close(math_utils.pose_inv(pose), torch.linalg.inv(pose))


def test_frame_transforms_match_pose_matrices():
    t01, q01 = torch.randn(3, 3, dtype=torch.float64), random_quats(3, seed=5)
    t02, q02 = torch.randn(3, 3, dtype=torch.float64), random_quats(3, seed=6)
    t12, q12 = math_utils.subtract_frame_transforms(t01, q01, t02, q02)
    pose_12 = math_utils.pose_inv(math_utils.make_pose(t01, q01)) @ math_utils.make_pose(t02, q02)
    torch.testing.assert_close(math_utils.make_pose(t12, q12), pose_12)
    t02_back, q02_back = math_utils.combine_frame_transforms(t01, q01, t12, q12)
    torch.testing.assert_close(t02_back, t02)
    assert same_rotation(q02_back, q02)
    # frame 0 seen from frame 1
    t10, q10 = math_utils.subtract_frame_transforms(t01, q01)
    torch.testing.assert_close(math_utils.make_pose(t10, q10), math_utils.pose_inv(math_utils.make_pose(t01, q01)))


def test_pose_in_A_to_pose_in_B_known():
    # frame A is 1 m along x in B and turned 90 degrees about z; a point 1 m along A's x is at (1, 1) in B
    pose_A_in_B = math_utils.make_pose(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), QUAT_Z90)
    pose_in_A = math_utils.make_pose(
        torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), torch.eye(3, dtype=torch.float64)
    )
    pose_in_B = math_utils.pose_in_A_to_pose_in_B(pose_in_A, pose_A_in_B)
    torch.testing.assert_close(pose_in_B[:3, 3], torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64))


def test_transform_poses_keeps_object_relative_offset():
    src = random_poses(8, seed=7)  # (T, 4, 4) e.g. end-effector poses of a source segment
    frame_A, frame_B = random_poses(seed=8), random_poses(seed=9)
    out = math_utils.transform_poses_from_frame_A_to_frame_B(src, frame_A, frame_B)
    assert out.shape == (8, 4, 4)
    # relation to the frame is preserved
    torch.testing.assert_close(math_utils.pose_inv(frame_B) @ out, math_utils.pose_inv(frame_A) @ src)
    # identity frames change nothing; equal frames change nothing
    torch.testing.assert_close(math_utils.transform_poses_from_frame_A_to_frame_B(src, frame_A, frame_A), src)


def test_interpolate_poses_ends_count_and_linearity():
    pose_1, pose_2 = random_poses(seed=10), random_poses(seed=11)
    poses, num_steps = math_utils.interpolate_poses(pose_1, pose_2, num_steps=3)
    assert num_steps == 3
    assert poses.shape == (5, 4, 4)
    torch.testing.assert_close(poses[0], pose_1)
    torch.testing.assert_close(poses[-1], pose_2)
    torch.testing.assert_close(poses[2, :3, 3], (pose_1[:3, 3] + pose_2[:3, 3]) / 2)
    # rotations are valid and the middle one is the slerp midpoint
    rots = poses[:, :3, :3]
    torch.testing.assert_close(rots @ rots.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(5, 3, 3))
    q_mid = math_utils.quat_slerp(
        math_utils.quat_from_matrix(pose_1[:3, :3]), math_utils.quat_from_matrix(pose_2[:3, :3]), 0.5
    )
    assert same_rotation(math_utils.quat_from_matrix(rots[2]), q_mid)
    # no interpolation: just the two ends
    ends, zero = math_utils.interpolate_poses(pose_1, pose_2, num_steps=0)
    assert zero == 0 and ends.shape == (2, 4, 4)


def test_interpolate_poses_step_size_batched_and_perturb():
    pose_1 = math_utils.make_pose(torch.zeros(2, 3), torch.eye(3).expand(2, 3, 3))
    pose_2 = pose_1.clone()
    pose_2[0, 0, 3] = 1.0
    pose_2[1, 1, 3] = 0.5
    poses, num_steps = math_utils.interpolate_poses(pose_1, pose_2, step_size=0.25)
    # the largest distance (1.0) sets the count: 4 segments, 3 interior points
    assert num_steps == 3
    assert poses.shape == (2, 5, 4, 4)
    torch.testing.assert_close(poses[0, :, 0, 3], torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    torch.manual_seed(0)
    jittered, _ = math_utils.interpolate_poses(pose_1[0], pose_2[0], num_steps=4, perturb=True)
    x = jittered[:, 0, 3]
    assert not torch.allclose(x, torch.linspace(0, 1, 6))
    assert (x[1:] > x[:-1]).all()
    assert x[0] == 0.0 and x[-1] == 1.0


def test_interpolate_poses_rejects_bad_arguments():
    pose = torch.eye(4)
    with pytest.raises(ValueError):
        math_utils.interpolate_poses(pose, pose)
    with pytest.raises(ValueError):
        math_utils.interpolate_poses(pose, pose, num_steps=2, step_size=0.1)
    with pytest.raises(ValueError):
        math_utils.interpolate_poses(pose, pose, num_steps=-1)


def test_axis_angle_of_a_half_turn():
    rotvec = math_utils.axis_angle_from_quat(torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(rotvec, torch.tensor([0.0, math.pi, 0.0], dtype=torch.float64))


def test_rotation_conversions_first_used_in_inference_mode_still_support_autograd():
    # bfloat16 is used by no other test, so its constants are created here, under inference mode
    quat = math_utils.normalize(torch.tensor([[0.1, 0.2, 0.3, 0.9]])).to(torch.bfloat16)
    with torch.inference_mode():
        math_utils.quat_from_matrix(math_utils.matrix_from_quat(quat))
    quat.requires_grad_(True)
    math_utils.quat_from_matrix(math_utils.matrix_from_quat(quat)).sum().backward()
    assert quat.grad is not None and torch.isfinite(quat.grad.float()).all()
