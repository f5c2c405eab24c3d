"""Pose and rotation math in PyTorch, batched over leading dimensions.

Conventions:

* Quaternions are ``(x, y, z, w)`` (scalar last), shape ``(..., 4)``.
* Rotation matrices are ``(..., 3, 3)``; homogeneous poses are ``(..., 4, 4)``.
* A pose ``pose_A_in_B`` maps points expressed in frame A to frame B.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
import torch

__all__ = [
    "axis_angle_from_quat",
    "combine_frame_transforms",
    "convert_quat",
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


def convert_quat(quat: torch.Tensor | np.ndarray, to: Literal["xyzw", "wxyz"] = "xyzw") -> torch.Tensor | np.ndarray:
    """Reorder quaternions between the scalar-first (w, x, y, z) and scalar-last (x, y, z, w) conventions.

    Args:
        quat: Quaternions of shape ``(..., 4)`` in the other convention than ``to``.
        to: The convention to convert to.

    Returns:
        The quaternions in the ``to`` convention, of the input's type.

    Raises:
        ValueError: If ``to`` is not ``"xyzw"`` or ``"wxyz"``, or the last dimension is not 4.
    """
    if to not in ("xyzw", "wxyz"):
        raise ValueError(f"Quaternion convention must be 'xyzw' or 'wxyz', got '{to}'.")
    if quat.shape[-1] != 4:
        raise ValueError(f"Quaternions must have shape (..., 4), got {tuple(quat.shape)}.")
    shift = -1 if to == "xyzw" else 1
    if isinstance(quat, np.ndarray):
        return np.roll(quat, shift, axis=-1)
    return torch.as_tensor(quat).roll(shift, dims=-1)


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


# Rotation-matrix entries as linear maps, so each conversion is a few batched torch ops (these functions run per env
# and per step in data generation, where the cost is the number of ops, not their size).
#
# matrix_from_quat: R (flattened, row-major) = I + 2 / |q|^2 * (q q^T flattened) @ _QUAT_PRODUCTS_TO_MATRIX, where the
# rows of the constant are the 16 products q_i q_j (x, y, z, w order; each unordered pair is counted once).
# quat_from_matrix: the 10 terms [4w^2, 4x^2, 4y^2, 4z^2, m21 - m12, m02 - m20, m10 - m01, m10 + m01, m02 + m20,
# m21 + m12] = _MATRIX_TERMS_OFFSET + R (flattened) @ _MATRIX_TO_TERMS; each candidate quaternion (x, y, z, w), scaled
# by 4 * its pivot component, picks 4 of those terms (_CANDIDATE_TERMS rows: pivot w, x, y, z).


def _quat_products_to_matrix() -> list[list[float]]:
    x, y, z, w = range(4)
    entries = [  # (row-major entry, +/-1, product i, product j) for the off-identity part of R
        (0, -1, y, y), (0, -1, z, z), (1, 1, x, y), (1, -1, z, w), (2, 1, x, z), (2, 1, y, w),
        (3, 1, x, y), (3, 1, z, w), (4, -1, x, x), (4, -1, z, z), (5, 1, y, z), (5, -1, x, w),
        (6, 1, x, z), (6, -1, y, w), (7, 1, y, z), (7, 1, x, w), (8, -1, x, x), (8, -1, y, y),
    ]  # fmt: skip
    table = [[0.0] * 9 for _ in range(16)]
    for entry, sign, i, j in entries:
        table[4 * i + j][entry] = float(sign)
    return table


def _matrix_to_terms() -> tuple[list[float], list[list[float]]]:
    m = {(r, c): 3 * r + c for r in range(3) for c in range(3)}
    diagonal_signs = [(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]  # 4w^2, 4x^2, 4y^2, 4z^2 (minus 1)
    pairs = [((2, 1), (1, 2), -1), ((0, 2), (2, 0), -1), ((1, 0), (0, 1), -1)]
    pairs += [((1, 0), (0, 1), 1), ((0, 2), (2, 0), 1), ((2, 1), (1, 2), 1)]
    table = [[0.0] * 10 for _ in range(9)]
    for term, signs in enumerate(diagonal_signs):
        for axis, sign in enumerate(signs):
            table[m[(axis, axis)]][term] = float(sign)
    for index, (first, second, sign) in enumerate(pairs):
        table[m[first]][4 + index] = 1.0
        table[m[second]][4 + index] = float(sign)
    return [1.0] * 4 + [0.0] * 6, table


_CANDIDATE_TERMS = [[4, 5, 6, 0], [1, 7, 8, 4], [7, 2, 9, 5], [8, 9, 3, 6]]
_IDENTITY_FLAT = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]


@functools.cache
def _rotation_constants(device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The constant tensors of the rotation conversions, once per device and dtype."""
    offset, to_terms = _matrix_to_terms()
    # normal tensors even when first called under inference mode, so that autograd may use them later
    with torch.inference_mode(False):
        return {
            "products_to_matrix": torch.tensor(_quat_products_to_matrix(), device=device, dtype=dtype),
            "identity": torch.tensor(_IDENTITY_FLAT, device=device, dtype=dtype),
            "terms_offset": torch.tensor(offset, device=device, dtype=dtype),
            "matrix_to_terms": torch.tensor(to_terms, device=device, dtype=dtype),
            "candidate_terms": torch.tensor(_CANDIDATE_TERMS, device=device),
        }


def matrix_from_quat(quaternions: torch.Tensor) -> torch.Tensor:
    """Rotation matrices from quaternions ``(x, y, z, w)``.

    Args:
        quaternions: Shape (..., 4); need not be unit length.

    Returns:
        Rotation matrices, shape (..., 3, 3).
    """
    constants = _rotation_constants(quaternions.device, quaternions.dtype)
    products = (quaternions.unsqueeze(-1) * quaternions.unsqueeze(-2)).flatten(-2)
    scale = 2.0 / (quaternions * quaternions).sum(-1, keepdim=True)
    flat = constants["identity"] + scale * (products @ constants["products_to_matrix"])
    return flat.unflatten(-1, (3, 3))


def quat_from_matrix(matrix: torch.Tensor) -> torch.Tensor:
    """Quaternions ``(x, y, z, w)`` from rotation matrices, with a non-negative real part.

    Each quaternion is computed from whichever of ``w, x, y, z`` has the largest magnitude, which keeps the
    division well conditioned for every rotation.

    Args:
        matrix: Rotation matrices, shape (..., 3, 3).

    Returns:
        Unit quaternions, shape (..., 4).
    """
    constants = _rotation_constants(matrix.device, matrix.dtype)
    terms = constants["terms_offset"] + matrix.flatten(-2) @ constants["matrix_to_terms"]
    # candidate (x, y, z, w) per pivot, (..., 4, 4); keep the one whose pivot is largest
    candidates = terms[..., constants["candidate_terms"]]
    best = terms[..., :4].argmax(dim=-1, keepdim=True).unsqueeze(-1).expand(*terms.shape[:-1], 1, 4)
    quat = normalize(candidates.gather(-2, best).squeeze(-2))
    return torch.where(quat[..., 3:] < 0, -quat, quat)


def quat_from_angle_axis(angle: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """Quaternions ``(x, y, z, w)`` from rotation angles (radians, shape (...)) about axes (shape (..., 3))."""
    half = (angle / 2.0).unsqueeze(-1)
    return torch.cat((normalize(axis) * torch.sin(half), torch.cos(half)), dim=-1)


def quat_from_axis_angle(rotvec: torch.Tensor) -> torch.Tensor:
    """Quaternions ``(x, y, z, w)`` from rotation vectors (axis times angle in radians).

    Args:
        rotvec: Rotation vectors, shape (..., 3).

    Returns:
        Unit quaternions, shape (..., 4).
    """
    angle = rotvec.norm(dim=-1, keepdim=True)
    # sin(angle / 2) / angle = sinc(angle / (2 pi)) / 2, smooth through zero
    return torch.cat((rotvec * (0.5 * torch.sinc(angle / (2.0 * math.pi))), torch.cos(angle / 2.0)), dim=-1)


def axis_angle_from_quat(quat: torch.Tensor) -> torch.Tensor:
    """Rotation vectors (axis times angle, angle in [0, pi]) from quaternions ``(x, y, z, w)``.

    Args:
        quat: Quaternions, shape (..., 4); need not be unit length.

    Returns:
        Rotation vectors, shape (..., 3).
    """
    # q and -q are the same rotation: take the one with w >= 0 so that the angle is at most pi
    quat = torch.where(quat[..., 3:] < 0, -quat, quat)
    xyz = quat[..., :3]
    half_angle = torch.atan2(xyz.norm(dim=-1, keepdim=True), quat[..., 3:])
    # angle / sin(angle / 2) = 2 / sinc(half_angle / pi), smooth through zero (half_angle <= pi / 2)
    return xyz * (2.0 / torch.sinc(half_angle / math.pi))


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
        Poses, shape (..., 4, 4), the batch shapes of ``pos`` and ``rot`` broadcast.
    """
    if rot.shape[-1] == 4:
        rot = matrix_from_quat(rot)
    batch = pos.shape[:-1]
    if batch != rot.shape[:-2]:
        batch = torch.broadcast_shapes(batch, rot.shape[:-2])
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
