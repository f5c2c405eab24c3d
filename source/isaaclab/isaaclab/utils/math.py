"""Pose and rotation math in PyTorch, batched over leading dimensions.

Conventions:

* Quaternions are ``(x, y, z, w)`` (scalar last), shape ``(..., 4)``.
* Rotation matrices are ``(..., 3, 3)``; homogeneous poses are ``(..., 4, 4)``.
* A pose ``pose_A_in_B`` maps points expressed in frame A to frame B.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "axis_angle_from_quat",
    "combine_frame_transforms",
    "interpolate_poses",
    "make_pose",
    "matrix_from_quat",
    "normalize",
    "pose_in_A_to_pose_in_B",
    "pose_inv",
    "quat_apply",
    "quat_conjugate",
    "quat_from_angle_axis",
    "quat_from_axis_angle",
    "quat_from_matrix",
    "quat_inv",
    "quat_mul",
    "quat_slerp",
    "subtract_frame_transforms",
    "transform_poses_from_frame_A_to_frame_B",
    "unmake_pose",
]


def normalize(x: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Scale vectors along the last dimension to unit length.

    Args:
        x: Vectors, shape (..., D).
        eps: Lower bound on the norm, to avoid dividing by zero.

    Returns:
        Unit vectors, shape (..., D).
    """
    return x / x.norm(p=2, dim=-1, keepdim=True).clamp(min=eps)


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Conjugate of quaternions ``(x, y, z, w)``, shape (..., 4)."""
    return torch.cat((-q[..., :3], q[..., 3:]), dim=-1)


def quat_inv(q: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Inverse of quaternions (conjugate over squared norm), shape (..., 4)."""
    return quat_conjugate(q) / (q * q).sum(dim=-1, keepdim=True).clamp(min=eps)


def quat_mul(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``q1 * q2`` (apply ``q2`` first, then ``q1``).

    Args:
        q1: Quaternions ``(x, y, z, w)``, shape (..., 4).
        q2: Quaternions ``(x, y, z, w)``, broadcastable with ``q1``.

    Returns:
        The products, shape (..., 4).
    """
    x1, y1, z1, w1 = q1.unbind(-1)
    x2, y2, z2, w2 = q2.unbind(-1)
    return torch.stack(
        (
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ),
        dim=-1,
    )


def quat_apply(quat: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    """Rotate vectors by unit quaternions.

    Args:
        quat: Quaternions ``(x, y, z, w)``, shape (..., 4).
        vec: Vectors, shape (..., 3), broadcastable with ``quat``.

    Returns:
        The rotated vectors, shape (..., 3).
    """
    xyz, vec = torch.broadcast_tensors(quat[..., :3], vec)
    t = 2.0 * torch.linalg.cross(xyz, vec, dim=-1)
    return vec + quat[..., 3:] * t + torch.linalg.cross(xyz, t, dim=-1)


def matrix_from_quat(quaternions: torch.Tensor) -> torch.Tensor:
    """Rotation matrices from quaternions ``(x, y, z, w)``.

    Args:
        quaternions: Shape (..., 4); need not be unit length.

    Returns:
        Rotation matrices, shape (..., 3, 3).
    """
    x, y, z, w = quaternions.unbind(-1)
    s = 2.0 / (quaternions * quaternions).sum(-1)
    rows = (
        1 - s * (y * y + z * z),
        s * (x * y - z * w),
        s * (x * z + y * w),
        s * (x * y + z * w),
        1 - s * (x * x + z * z),
        s * (y * z - x * w),
        s * (x * z - y * w),
        s * (y * z + x * w),
        1 - s * (x * x + y * y),
    )
    return torch.stack(rows, dim=-1).reshape(quaternions.shape[:-1] + (3, 3))


def quat_from_matrix(matrix: torch.Tensor) -> torch.Tensor:
    """Quaternions ``(x, y, z, w)`` from rotation matrices, with a non-negative real part.

    Each quaternion is computed from whichever of ``w, x, y, z`` has the largest magnitude, which keeps the
    division well conditioned for every rotation.

    Args:
        matrix: Rotation matrices, shape (..., 3, 3).

    Returns:
        Unit quaternions, shape (..., 4).
    """
    m = matrix
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # 4 * (square of each component): w, x, y, z
    squares = torch.stack((1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22), dim=-1)
    # the off-diagonal sums/differences, each 4 * (product of two components)
    d21, d02, d10 = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]
    s10, s02, s21 = m[..., 1, 0] + m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] + m[..., 1, 2]
    # candidate (x, y, z, w) scaled by 4 * pivot, one per choice of pivot component
    candidates = torch.stack(
        (
            torch.stack((d21, d02, d10, squares[..., 0]), dim=-1),  # pivot w
            torch.stack((squares[..., 1], s10, s02, d21), dim=-1),  # pivot x
            torch.stack((s10, squares[..., 2], s21, d02), dim=-1),  # pivot y
            torch.stack((s02, s21, squares[..., 3], d10), dim=-1),  # pivot z
        ),
        dim=-2,
    )
    best = squares.argmax(dim=-1)
    index = best[..., None, None].expand(best.shape + (1, 4))
    quat = normalize(candidates.gather(-2, index).squeeze(-2))
    return torch.where(quat[..., 3:] < 0, -quat, quat)


def quat_from_angle_axis(angle: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """Quaternions ``(x, y, z, w)`` from rotation angles (radians, shape (...)) about axes (shape (..., 3))."""
    half = (angle / 2.0).unsqueeze(-1)
    return torch.cat((normalize(axis) * torch.sin(half), torch.cos(half)), dim=-1)


def quat_from_axis_angle(rotvec: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """Quaternions ``(x, y, z, w)`` from rotation vectors (axis times angle in radians).

    Args:
        rotvec: Rotation vectors, shape (..., 3).
        eps: Angles below this map to the identity rotation.

    Returns:
        Unit quaternions, shape (..., 4).
    """
    angle = rotvec.norm(dim=-1, keepdim=True)
    half = angle / 2.0
    # sin(angle / 2) / angle, with its limit 1/2 at zero
    scale = torch.where(angle > eps, torch.sin(half) / angle.clamp(min=eps), 0.5 - angle * angle / 48.0)
    return torch.cat((rotvec * scale, torch.cos(half)), dim=-1)


def axis_angle_from_quat(quat: torch.Tensor, eps: float = 1.0e-6) -> torch.Tensor:
    """Rotation vectors (axis times angle, angle in [0, pi]) from quaternions ``(x, y, z, w)``.

    Args:
        quat: Quaternions, shape (..., 4).
        eps: Below this half-angle the small-angle expansion is used.

    Returns:
        Rotation vectors, shape (..., 3).
    """
    # q and -q are the same rotation: take the one with w >= 0 so that the angle is at most pi
    quat = torch.where(quat[..., 3:] < 0, -quat, quat)
    sin_half = quat[..., :3].norm(dim=-1, keepdim=True)
    half = torch.atan2(sin_half, quat[..., 3:])
    # angle / sin(angle / 2), with its limit 2 (plus second-order term) at zero
    scale = torch.where(half.abs() > eps, 2.0 * half / sin_half.clamp(min=1e-12), 2.0 + half * half / 3.0)
    return quat[..., :3] * scale


def quat_slerp(q1: torch.Tensor, q2: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """Spherical linear interpolation between unit quaternions, along the shorter arc.

    Args:
        q1: Start quaternions ``(x, y, z, w)``, shape (..., 4).
        q2: End quaternions, broadcastable with ``q1``.
        tau: Fraction in [0, 1] (0 gives ``q1``, 1 gives ``q2``); a float or a tensor broadcastable with
            ``q1[..., 0]``.

    Returns:
        The interpolated unit quaternions, shape (..., 4).
    """
    tau = torch.as_tensor(tau, dtype=q1.dtype, device=q1.device).unsqueeze(-1)
    dot = (q1 * q2).sum(dim=-1, keepdim=True)
    q2 = torch.where(dot < 0, -q2, q2)
    dot = dot.abs().clamp(max=1.0)
    theta = torch.acos(dot)
    sin_theta = torch.sin(theta)
    nearly_equal = sin_theta < 1e-6
    safe_sin = torch.where(nearly_equal, torch.ones_like(sin_theta), sin_theta)
    w1 = torch.where(nearly_equal, 1.0 - tau, torch.sin((1.0 - tau) * theta) / safe_sin)
    w2 = torch.where(nearly_equal, tau, torch.sin(tau * theta) / safe_sin)
    return normalize(w1 * q1 + w2 * q2)


def make_pose(pos: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    """Homogeneous poses from positions and rotations.

    Args:
        pos: Positions, shape (..., 3).
        rot: Rotation matrices, shape (..., 3, 3), or quaternions ``(x, y, z, w)``, shape (..., 4).

    Returns:
        Poses, shape (..., 4, 4).
    """
    if rot.shape[-1] == 4:
        rot = matrix_from_quat(rot)
    batch = torch.broadcast_shapes(pos.shape[:-1], rot.shape[:-2])
    pose = torch.zeros(batch + (4, 4), dtype=pos.dtype, device=pos.device)
    pose[..., :3, :3] = rot
    pose[..., :3, 3] = pos
    pose[..., 3, 3] = 1.0
    return pose


def unmake_pose(pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split homogeneous poses (..., 4, 4) into positions (..., 3) and rotation matrices (..., 3, 3)."""
    return pose[..., :3, 3], pose[..., :3, :3]


def pose_inv(pose: torch.Tensor) -> torch.Tensor:
    """Invert rigid homogeneous poses, shape (..., 4, 4), using the transpose of the rotation."""
    rot_t = pose[..., :3, :3].transpose(-1, -2)
    inv = torch.zeros_like(pose)
    inv[..., :3, :3] = rot_t
    inv[..., :3, 3] = -(rot_t @ pose[..., :3, 3:4]).squeeze(-1)
    inv[..., 3, 3] = 1.0
    return inv


def pose_in_A_to_pose_in_B(pose_in_A: torch.Tensor, pose_A_in_B: torch.Tensor) -> torch.Tensor:
    """Express a pose given in frame A in frame B.

    Args:
        pose_in_A: Poses relative to frame A, shape (..., 4, 4).
        pose_A_in_B: Pose of frame A in frame B, broadcastable with ``pose_in_A``.

    Returns:
        The poses relative to frame B, shape (..., 4, 4).
    """
    return pose_A_in_B @ pose_in_A


def transform_poses_from_frame_A_to_frame_B(
    src_poses: torch.Tensor, frame_A: torch.Tensor, frame_B: torch.Tensor
) -> torch.Tensor:
    """Move poses rigidly with a frame: keep each pose's relation to frame A, but attach it to frame B.

    This is how Mimic replays a source segment relative to where the object is now: poses recorded while
    the object was at ``frame_A`` become the poses with the same object-relative offset for ``frame_B``.

    Args:
        src_poses: Poses in the world, shape (..., 4, 4) (for example (T, 4, 4)).
        frame_A: Source frame in the world, shape (4, 4) or broadcastable with ``src_poses``.
        frame_B: Target frame in the world, same shape rules as ``frame_A``.

    Returns:
        The transformed poses in the world, shape of ``src_poses``.
    """
    src_in_A = pose_in_A_to_pose_in_B(src_poses, pose_inv(frame_A))
    return pose_in_A_to_pose_in_B(src_in_A, frame_B)


def combine_frame_transforms(
    t01: torch.Tensor, q01: torch.Tensor, t12: torch.Tensor | None = None, q12: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Compose frame 2 given in frame 1 with frame 1 given in frame 0, giving frame 2 in frame 0.

    Args:
        t01: Position of frame 1 in frame 0, shape (..., 3).
        q01: Orientation ``(x, y, z, w)`` of frame 1 in frame 0, shape (..., 4).
        t12: Position of frame 2 in frame 1; ``None`` means zero.
        q12: Orientation of frame 2 in frame 1; ``None`` means identity.

    Returns:
        Position (..., 3) and orientation (..., 4) of frame 2 in frame 0.
    """
    q02 = q01 if q12 is None else quat_mul(q01, q12)
    t02 = t01 if t12 is None else t01 + quat_apply(q01, t12)
    return t02, q02


def subtract_frame_transforms(
    t01: torch.Tensor, q01: torch.Tensor, t02: torch.Tensor | None = None, q02: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Express frame 2 in frame 1, both given in frame 0.

    Args:
        t01: Position of frame 1 in frame 0, shape (..., 3).
        q01: Orientation ``(x, y, z, w)`` of frame 1 in frame 0, shape (..., 4).
        t02: Position of frame 2 in frame 0; ``None`` means the origin of frame 0.
        q02: Orientation of frame 2 in frame 0; ``None`` means identity.

    Returns:
        Position (..., 3) and orientation (..., 4) of frame 2 in frame 1.
    """
    q10 = quat_inv(q01)
    q12 = q10 if q02 is None else quat_mul(q10, q02)
    t12 = quat_apply(q10, -t01) if t02 is None else quat_apply(q10, t02 - t01)
    return t12, q12


def interpolate_poses(
    pose_1: torch.Tensor,
    pose_2: torch.Tensor,
    num_steps: int | None = None,
    step_size: float | None = None,
    perturb: bool = False,
) -> tuple[torch.Tensor, int]:
    """Interpolate between two poses: positions linearly, rotations by slerp.

    Args:
        pose_1: Start poses, shape (..., 4, 4).
        pose_2: End poses, same shape.
        num_steps: Number of poses strictly between the two ends (0: just the ends). If ``None``,
            ``step_size`` must be given.
        step_size: Largest position change per step; sets ``num_steps`` from the (largest) distance.
        perturb: If true, jitter each interior fraction uniformly inside its own slot, so the points stay
            ordered and do not overlap.

    Returns:
        The poses (..., num_steps + 2, 4, 4), both ends included, and ``num_steps``.

    Raises:
        ValueError: If neither or both of ``num_steps`` and ``step_size`` are given, or ``num_steps < 0``.
    """
    if (num_steps is None) == (step_size is None):
        raise ValueError("interpolate_poses: give exactly one of num_steps and step_size.")
    pos_1, rot_1 = unmake_pose(pose_1)
    pos_2, rot_2 = unmake_pose(pose_2)
    if num_steps is None:
        distance = (pos_2 - pos_1).norm(dim=-1).max().item()
        num_steps = max(math.ceil(distance / step_size) - 1, 0)
    if num_steps < 0:
        raise ValueError(f"interpolate_poses: num_steps must be >= 0, got {num_steps}.")

    num_points = num_steps + 2
    fractions = torch.linspace(0.0, 1.0, num_points, dtype=pose_1.dtype, device=pose_1.device)
    if perturb and num_steps > 0:
        slot = 1.0 / (num_points - 1)
        jitter = (torch.rand(num_steps, dtype=pose_1.dtype, device=pose_1.device) - 0.5) * slot
        fractions = fractions.clone()
        fractions[1:-1] += jitter

    # insert the step dimension before the (4, 4) / (3,) dimensions
    tau = fractions.reshape((1,) * (pose_1.dim() - 2) + (num_points,))
    pos = pos_1.unsqueeze(-2) + tau.unsqueeze(-1) * (pos_2 - pos_1).unsqueeze(-2)
    quat_1 = quat_from_matrix(rot_1).unsqueeze(-2)
    quat_2 = quat_from_matrix(rot_2).unsqueeze(-2)
    quats = quat_slerp(quat_1, quat_2, tau)
    poses = make_pose(pos, matrix_from_quat(quats))
    # the ends are exactly the inputs
    poses[..., 0, :, :] = pose_1
    poses[..., -1, :, :] = pose_2
    return poses, num_steps
