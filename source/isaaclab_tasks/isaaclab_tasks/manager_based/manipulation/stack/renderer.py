"""A batched ray-casting renderer for boxes on a table, in torch.

The table (plane z = 0) with a 10 cm checker pattern and the sky are computed for every pixel; each box is then ray-cast
only inside the screen rectangle its corners project to, with the slab test in the box's own frame, and written
where it is nearer than what the pixel shows. Box faces are shaded by which box axis they face.
"""

from __future__ import annotations

import math

import torch

from isaaclab.utils import configclass

_FACE_SHADE = (0.78, 0.62, 1.0)
"""Brightness of box faces whose normal is the box's local x, y or z axis."""

_TABLE_COLORS = ((0.62, 0.50, 0.36), (0.56, 0.45, 0.32))
_SKY_COLORS = ((0.80, 0.85, 0.92), (0.55, 0.62, 0.72))
_NEAR = 1e-3
_CORNER_SIGNS = (
    (-1, -1, -1),
    (-1, -1, 1),
    (-1, 1, -1),
    (-1, 1, 1),
    (1, -1, -1),
    (1, -1, 1),
    (1, 1, -1),
    (1, 1, 1),
)


@configclass
class CameraCfg:
    """A pinhole RGB camera (OpenCV axes: x right, y down, z forward)."""

    width: int = 84
    """Image width in pixels."""

    height: int = 84
    """Image height in pixels."""

    fov_deg: float = 60.0
    """Horizontal field of view in degrees."""

    pos: tuple[float, float, float] = (1.2, 0.0, 0.6)
    """Position in the environment frame, or in the end-effector frame if :attr:`attach_to_eef`."""

    look_at: tuple[float, float, float] = (0.5, 0.0, 0.0)
    """Point a fixed camera looks at, in the environment frame (ignored if :attr:`attach_to_eef`)."""

    attach_to_eef: bool = False
    """If true, the camera moves with the end effector and looks along its z axis."""


def focal_length(cfg: CameraCfg) -> float:
    """Focal length in pixels."""
    return (cfg.width / 2.0) / math.tan(math.radians(cfg.fov_deg) / 2.0)


def pixel_rays(cfg: CameraCfg, device: str) -> torch.Tensor:
    """Unit ray directions through every pixel centre, in the camera frame, row-major.

    Returns:
        Directions, shape (height * width, 3).
    """
    focal = focal_length(cfg)
    u = (torch.arange(cfg.width, device=device, dtype=torch.float32) + 0.5 - cfg.width / 2.0) / focal
    v = (torch.arange(cfg.height, device=device, dtype=torch.float32) + 0.5 - cfg.height / 2.0) / focal
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    dirs = torch.stack((uu, vv, torch.ones_like(uu)), dim=-1).reshape(-1, 3)
    return dirs / dirs.norm(dim=-1, keepdim=True)


def look_at_rotation(eye: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Camera-to-world rotation (OpenCV axes) of a camera at ``eye`` looking at ``target``, world z up.

    Args:
        eye: Camera position, shape (3,).
        target: Point looked at, shape (3,).

    Returns:
        Rotation matrix, shape (3, 3), whose columns are the camera axes in the world.
    """
    forward = target - eye
    forward = forward / forward.norm()
    up = torch.tensor([0.0, 0.0, 1.0], device=eye.device)
    right = torch.linalg.cross(forward, up)
    right = right / right.norm()
    down = torch.linalg.cross(forward, right)
    return torch.stack((right, down, forward), dim=-1)


def render_background(
    cam_pos: torch.Tensor,
    cam_rot: torch.Tensor,
    rays: torch.Tensor,
    table_center: tuple[float, float],
    table_half_extents: tuple[float, float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour and depth of the table and the sky for every pixel.

    Args:
        cam_pos: Camera positions, shape (N, 3).
        cam_rot: Camera-to-world rotations, shape (N, 3, 3).
        rays: Unit ray directions in the camera frame, shape (P, 3).
        table_center: Centre (x, y) of the table top (z = 0).
        table_half_extents: Half sizes (x, y) of the table top.

    Returns:
        Colours in [0, 1], channels first, shape (N, 3, P), and ray depths (inf where the sky shows), shape (N, P).
    """
    # world x, y, z components of every ray, each (N, P)
    dir_x, dir_y, dir_z = (cam_rot[:, axis, :] @ rays.T.contiguous() for axis in range(3))
    table_t = -cam_pos[:, 2:3] / dir_z.clamp(max=-1e-6)
    table_x = cam_pos[:, 0:1] + table_t * dir_x
    table_y = cam_pos[:, 1:2] + table_t * dir_y
    on_table = dir_z < -1e-6
    on_table &= (table_x - table_center[0]).abs() <= table_half_extents[0]
    on_table &= (table_y - table_center[1]).abs() <= table_half_extents[1]
    checker = (torch.floor(table_x * 10.0) + torch.floor(table_y * 10.0)).remainder(2.0)
    sky_mix = (dir_z * 0.5 + 0.5).clamp(0.0, 1.0)
    color = torch.empty(dir_z.shape[0], 3, dir_z.shape[1], device=cam_pos.device)
    for channel in range(3):
        light, dark = _TABLE_COLORS[0][channel], _TABLE_COLORS[1][channel]
        top, bottom = _SKY_COLORS[0][channel], _SKY_COLORS[1][channel]
        torch.where(
            on_table, light + (dark - light) * checker, bottom + (top - bottom) * sky_mix, out=color[:, channel]
        )
    depth = torch.where(on_table, table_t, torch.full_like(table_t, math.inf))
    return color, depth


def render_boxes(
    cam_pos: torch.Tensor,
    cam_rot: torch.Tensor,
    rays: torch.Tensor,
    focal: float,
    height: int,
    width: int,
    box_pos: torch.Tensor,
    box_rot: torch.Tensor,
    box_half_extents: torch.Tensor,
    box_colors: torch.Tensor,
    background_color: torch.Tensor,
    background_depth: torch.Tensor,
) -> torch.Tensor:
    """Render boxes over a background for a batch of cameras.

    Args:
        cam_pos: Camera positions, shape (N, 3).
        cam_rot: Camera-to-world rotations, shape (N, 3, 3).
        rays: Unit ray directions in the camera frame, shape (P, 3) with P = height * width.
        focal: Focal length in pixels.
        height: Image height.
        width: Image width.
        box_pos: Box centres, shape (N, B, 3).
        box_rot: Box-to-world rotations, shape (N, B, 3, 3).
        box_half_extents: Half sizes of the boxes, shape (B, 3).
        box_colors: RGB in [0, 1] of the boxes, shape (B, 3).
        background_color: Background colours, channels first, shape (N or 1, 3, P).
        background_depth: Background ray depths, shape (N or 1, P).

    Returns:
        Images, shape (N, height, width, 3), dtype uint8.
    """
    num_envs, num_pixels = cam_pos.shape[0], rays.shape[0]
    device = cam_pos.device
    # one spare column: window pixels outside a box's rectangle are written there
    color = torch.cat((background_color.expand(num_envs, -1, -1), torch.zeros(num_envs, 3, 1, device=device)), dim=2)
    depth = torch.cat((background_depth.expand(num_envs, -1), torch.zeros(num_envs, 1, device=device)), dim=1)

    cam_rot_t = cam_rot.transpose(-1, -2)
    # each box seen from the camera: rotation from camera to box frame, camera origin in the box frame
    to_box = cam_rot_t.unsqueeze(1) @ box_rot  # (N, B, 3, 3); row vectors: d_box = d_cam @ to_box
    origin_in_box = ((cam_pos.unsqueeze(1) - box_pos).unsqueeze(-2) @ box_rot).squeeze(-2)  # (N, B, 3)
    u_min, u_max, v_min, v_max, visible = _screen_rectangles(
        cam_pos, cam_rot_t, box_pos, box_rot, box_half_extents, focal, height, width
    )
    shade = torch.tensor(_FACE_SHADE, device=device)
    for b in range(box_pos.shape[1]):
        if not visible[:, b].any():
            continue
        win_w = int((u_max[:, b] - u_min[:, b] + 1)[visible[:, b]].max())
        win_h = int((v_max[:, b] - v_min[:, b] + 1)[visible[:, b]].max())
        pu = u_min[:, b, None, None] + torch.arange(win_w, device=device)  # (N, 1, win_w)
        pv = v_min[:, b, None, None] + torch.arange(win_h, device=device).unsqueeze(-1)  # (N, win_h, 1)
        inside = (pu <= u_max[:, b, None, None]) & (pv <= v_max[:, b, None, None]) & visible[:, b, None, None]
        pixel = torch.where(inside, pv * width + pu, torch.full_like(inside, num_pixels, dtype=torch.long))
        pixel = pixel.reshape(num_envs, -1)  # (N, K)
        local_dirs = rays[pixel.clamp(max=num_pixels - 1)] @ to_box[:, b]  # (N, K, 3)
        # a zero direction component gives an infinite slab (or NaN, which never counts as a hit)
        inv_dirs = local_dirs.reciprocal()
        centre_t = -origin_in_box[:, b].unsqueeze(1) * inv_dirs
        half_span = box_half_extents[b] * inv_dirs.abs()
        t_near, axis = (centre_t - half_span).max(dim=-1)
        t_far = (centre_t + half_span).amin(dim=-1)
        current_depth = depth.gather(1, pixel)
        wins = (t_far >= t_near) & (t_far > 0.0) & (t_near < current_depth) & (pixel < num_pixels)
        depth.scatter_(1, pixel, torch.where(wins, t_near, current_depth))
        channel_pixel = pixel.unsqueeze(1).expand(-1, 3, -1)
        current_color = color.gather(2, channel_pixel)
        box_color = box_colors[b].unsqueeze(-1) * shade[axis].unsqueeze(1)  # (N, 3, K)
        color.scatter_(2, channel_pixel, torch.where(wins.unsqueeze(1), box_color, current_color))
    image = (color[:, :, :num_pixels] * 255.0 + 0.5).to(torch.uint8)
    return image.transpose(1, 2).reshape(num_envs, height, width, 3)


def _screen_rectangles(
    cam_pos: torch.Tensor,
    cam_rot_t: torch.Tensor,
    box_pos: torch.Tensor,
    box_rot: torch.Tensor,
    box_half_extents: torch.Tensor,
    focal: float,
    height: int,
    width: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pixel rectangles (inclusive) that contain each box's image, and whether any of it can be seen.

    A box with a corner behind the camera gets the whole image.

    Returns:
        ``u_min, u_max, v_min, v_max`` (long, shape (N, B)) and ``visible`` (bool, shape (N, B)).
    """
    signs = torch.tensor(_CORNER_SIGNS, dtype=torch.float32, device=cam_pos.device)
    corners = signs * box_half_extents.unsqueeze(1)  # (B, 8, 3) in each box frame
    corners_world = box_pos.unsqueeze(2) + corners @ box_rot.transpose(-1, -2)  # (N, B, 8, 3)
    corners_cam = (corners_world - cam_pos[:, None, None, :]) @ cam_rot_t.transpose(-1, -2).unsqueeze(1)
    z = corners_cam[..., 2]
    behind = (z < _NEAR).any(dim=-1)
    safe_z = z.clamp(min=_NEAR)
    u = focal * corners_cam[..., 0] / safe_z + width / 2.0
    v = focal * corners_cam[..., 1] / safe_z + height / 2.0
    u_lo, u_hi = torch.floor(u.amin(dim=-1)), torch.floor(u.amax(dim=-1))
    v_lo, v_hi = torch.floor(v.amin(dim=-1)), torch.floor(v.amax(dim=-1))
    on_screen = (u_hi >= 0) & (u_lo < width) & (v_hi >= 0) & (v_lo < height)
    visible = (z > _NEAR).any(dim=-1) & (on_screen | behind)
    u_min = torch.where(behind, 0.0, u_lo.clamp(0, width - 1)).long()
    u_max = torch.where(behind, width - 1.0, u_hi.clamp(0, width - 1)).long()
    v_min = torch.where(behind, 0.0, v_lo.clamp(0, height - 1)).long()
    v_max = torch.where(behind, height - 1.0, v_hi.clamp(0, height - 1)).long()
    return u_min, u_max, v_min, v_max, visible
