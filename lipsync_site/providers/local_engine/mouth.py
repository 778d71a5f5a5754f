"""Moving the mouth along the lip contour the landmarks give.

The mouth is worked on in its own frame (u along the line between the corners, v down
towards the chin), so a tilted head opens its mouth along its own axis. For one frame:

- the inner lips split along a line between them (``UPPER_SHARE`` of the way down from the
  upper inner lip): what is above moves with the upper lip, what is below with the lower
  lip and the jaw, so teeth already visible in the source move with their lip and are
  never painted over;
- the lower lip and the chin move by most of the change, the upper lip by the rest; the
  change fades to nothing at the nose, below the chin and beyond the jaw, so no seam shows;
- the lips part in a lens between the corners (rounder for o/u), the corners move out for
  e/i and in for o/u;
- only the gap that opens between the lips is darkened, feathered over a pixel.

The same maps serve a luma plane, 4:2:0 chroma planes (halved) or an RGB array.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lipsync_site.media.faces import Landmarks

UPPER_SHARE = 0.25  # of an opening, the upper lip takes this much and the jaw the rest
MAX_OPENING = 0.5  # inner-lip opening at full voice, as a fraction of the mouth's width
MAX_JAW_DROP = 0.45  # of the distance from the lips to the chin
WIDEN = 0.10  # corners move out by this fraction of the half-width for a wide shape
NARROW = 0.16  # and in by this much for a rounded one
INNER_MOUTH_YUV = (24.0, 124.0, 142.0)  # a dark, warm mouth interior (BT.601 limited range)
INNER_MOUTH_RGB = (40.0, 14.0, 16.0)


@dataclass(frozen=True)
class MouthShape:
    """What the mouth should do in one frame.

    ``opening``: 0 closed (m, b, p) .. 1 fully open (a), before loudness.
    ``width``: -1 rounded (o, u) .. 0 neutral .. +1 wide (e, i).
    ``strength``: 0..1, how far to go from the source's own mouth towards that shape
    (the voice's loudness): 0 leaves the frame untouched.
    """

    opening: float
    width: float = 0.0
    strength: float = 1.0

    @property
    def is_still(self) -> bool:
        return self.strength <= 0.01


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class MouthWarp:
    """Backward maps for a region of the frame, and the darkening of the new gap."""

    x0: int
    y0: int
    map_x: np.ndarray  # float32, absolute source x for each pixel of the region
    map_y: np.ndarray
    gap: np.ndarray  # 0..1, how much of the mouth-interior colour each pixel takes
    shade: np.ndarray  # 0..1, darker towards the middle of the gap

    @property
    def shape(self) -> tuple[int, int]:
        return self.map_x.shape


def plan_warp(marks: Landmarks, shape: MouthShape, frame_width: int, frame_height: int) -> MouthWarp | None:
    """The warp for one frame, or None when nothing would move."""
    if shape.is_still:
        return None
    p = marks.points.astype(np.float64)
    left, right = p[48], p[54]
    origin = (left + right) / 2
    half_width = float(np.linalg.norm(right - left)) / 2
    if half_width < 3:
        return None
    ex = (right - left) / (2 * half_width)
    ey = np.array([-ex[1], ex[0]])

    def local(points: np.ndarray) -> np.ndarray:
        offset = np.atleast_2d(points) - origin
        return np.stack([offset @ ex, offset @ ey], axis=-1)

    upper_inner = local(p[[60, 61, 62, 63, 64]])
    lower_inner = local(p[[60, 67, 66, 65, 64]])
    nose_v = float(local(p[33])[0, 1])
    top_lip_v = float(local(p[51])[0, 1])
    bottom_lip_v = float(local(p[57])[0, 1])
    chin_v = float(local(p[8])[0, 1])
    jaw_half = float(np.abs(local(p[[3, 13]])[:, 0]).max())
    # Columns sampled along u: the inner lips (with the outer corners as their ends).
    column_u = np.linspace(-half_width, half_width, 64)
    ui_u = np.concatenate([[-half_width], upper_inner[:, 0], [half_width]])
    ui_v = np.concatenate([[0.0], upper_inner[:, 1], [0.0]])
    li_u = np.concatenate([[-half_width], lower_inner[:, 0], [half_width]])
    li_v = np.concatenate([[0.0], lower_inner[:, 1], [0.0]])
    upper_at = np.interp(column_u, *_sorted(ui_u, ui_v))
    lower_at = np.interp(column_u, *_sorted(li_u, li_v))
    source_open = np.clip(lower_at - upper_at, 0.0, None)
    split = upper_at + UPPER_SHARE * source_open
    split_centre = float(np.interp(0.0, column_u, split))
    if not (nose_v < top_lip_v <= split_centre < bottom_lip_v < chin_v) or jaw_half <= half_width * 0.8:
        return None  # the landmarks do not describe an upright mouth: leave the frame alone

    # The shape wanted: a lens between the (moved) inner corners.
    inner_half = max(2.0, (upper_inner[4, 0] - upper_inner[0, 0]) / 2)
    width_gain = WIDEN * max(shape.width, 0.0) - NARROW * max(-shape.width, 0.0)
    lens_half = inner_half * (1 + width_gain) * (1.0 - 0.25 * max(-shape.width, 0.0))
    exponent = 0.6 - 0.2 * max(-shape.width, 0.0)  # rounder when rounded
    x = np.clip(np.abs(column_u) / lens_half, 0.0, 1.0)
    wanted_centre = shape.opening * MAX_OPENING * 2 * half_width
    wanted_centre = min(wanted_centre, MAX_JAW_DROP * (chin_v - split_centre))
    wanted = wanted_centre * (1.0 - x * x) ** exponent
    change = np.maximum(shape.strength * (wanted - source_open), -source_open)
    centre_change = float(np.interp(0.0, column_u, change))

    # The region the warp may touch, in frame pixels (even-aligned for 4:2:0 chroma).
    fall = 0.6 * (chin_v - split_centre)
    corners_local = np.array(
        [[-jaw_half, nose_v], [jaw_half, nose_v], [-jaw_half, chin_v + fall], [jaw_half, chin_v + fall]]
    )
    corners = origin + corners_local[:, :1] * ex + corners_local[:, 1:] * ey
    x0 = max(0, int(np.floor(corners[:, 0].min())) & ~1)
    y0 = max(0, int(np.floor(corners[:, 1].min())) & ~1)
    x1 = min(frame_width, int(np.ceil(corners[:, 0].max())) + 2)
    y1 = min(frame_height, int(np.ceil(corners[:, 1].max())) + 2)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xs - np.float32(origin[0]), ys - np.float32(origin[1])
    u = dx * np.float32(ex[0]) + dy * np.float32(ex[1])
    v = dx * np.float32(ey[0]) + dy * np.float32(ey[1])

    change_u = np.interp(u, column_u, change, left=0.0, right=0.0).astype(np.float32)
    split_u = np.interp(u, column_u, split, left=0.0, right=0.0).astype(np.float32)
    up_shift = -UPPER_SHARE * change_u  # upward (negative v) when opening
    down_shift = (1 - UPPER_SHARE) * change_u
    boundary = split_u + (up_shift + down_shift) / 2

    # Upper lip: moves whole up to its top edge, fading to nothing at the nose.
    upper_weight = _smoothstep((v - nose_v) / max(1.0, top_lip_v - nose_v))
    upper_dv = up_shift * upper_weight
    # Lower lip and jaw: the lip's lens just under the split, the jaw's even drop below
    # the lower lip, fading out under the chin and beyond the jaw's sides.
    to_jaw = _smoothstep((v - split_u) / np.maximum(1.0, bottom_lip_v - split_u))
    jaw_profile = 1.0 - _smoothstep((np.abs(u) - 0.55 * jaw_half) / (0.45 * jaw_half))
    jaw_shift = (1 - UPPER_SHARE) * centre_change * jaw_profile
    below_chin = 1.0 - _smoothstep((v - chin_v) / max(1.0, fall))
    lower_dv = (down_shift * (1 - to_jaw) + jaw_shift * to_jaw) * below_chin
    dv = np.where(v < boundary, upper_dv, lower_dv)

    # Corners: out for a wide mouth, in for a rounded one, only around the lips.
    du = None
    if width_gain:
        along = 1.0 - _smoothstep((np.abs(u) - 1.1 * half_width) / (0.5 * half_width))
        around = (1.0 - _smoothstep((top_lip_v - v) / (0.8 * (top_lip_v - nose_v)))) * (
            1.0 - _smoothstep((v - bottom_lip_v) / (0.5 * (chin_v - bottom_lip_v)))
        )
        du = np.float32(width_gain) * u * along * around

    map_x = xs - dv * np.float32(ey[0])
    map_y = ys - dv * np.float32(ey[1])
    if du is not None:
        map_x -= du * np.float32(ex[0])
        map_y -= du * np.float32(ex[1])

    # The gap: between the moved lips, only where they part.
    top, bottom = split_u + up_shift, split_u + down_shift
    gap = np.clip(np.minimum(v - top, bottom - v) + 0.5, 0.0, 1.0) * np.clip(change_u / 1.5, 0.0, 1.0)
    middle = (top + bottom) / 2
    half = np.maximum((bottom - top) / 2, 0.5)
    shade = np.clip(1.0 - np.abs(v - middle) / half, 0.0, 1.0)
    return MouthWarp(x0, y0, map_x, map_y, gap.astype(np.float32), shade.astype(np.float32))


def _sorted(us: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(us, kind="stable")
    return us[order], vs[order]


def _apply(plane: np.ndarray, warp: MouthWarp, interior: float, *, half: bool = False) -> None:
    """Warp one plane in place (a luma or RGB array at frame size, or a chroma plane at
    half size when ``half``)."""
    if half:
        x0, y0 = warp.x0 // 2, warp.y0 // 2
        map_x, map_y = warp.map_x[::2, ::2] / 2 - 0.25, warp.map_y[::2, ::2] / 2 - 0.25
        gap, shade = warp.gap[::2, ::2], warp.shade[::2, ::2]
    else:
        x0, y0, map_x, map_y, gap, shade = warp.x0, warp.y0, warp.map_x, warp.map_y, warp.gap, warp.shade
    height, width = map_x.shape
    height, width = min(height, plane.shape[0] - y0), min(width, plane.shape[1] - x0)
    map_x, map_y, gap, shade = (
        map_x[:height, :width],
        map_y[:height, :width],
        gap[:height, :width],
        shade[:height, :width],
    )
    warped = cv2.remap(plane, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if plane.ndim == 3:
        gap, shade = gap[..., None], shade[..., None]
    region = warped.astype(np.float32)
    # The interior is darkest in the middle, a little lighter near the lips.
    colour = np.asarray(interior, dtype=np.float32)
    fill = colour + (region - colour) * 0.25 * (1.0 - shade)
    blended = region + (fill - region) * gap * 0.95
    plane[y0 : y0 + height, x0 : x0 + width] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def animate_yuv(planar: np.ndarray, marks: Landmarks | None, shape: MouthShape) -> np.ndarray:
    """A 4:2:0 frame as PyAV lays it out (Y rows, then U and V) with the mouth moved;
    the input array itself when nothing moves."""
    if marks is None or shape.is_still:
        return planar
    height = planar.shape[0] * 2 // 3
    width = planar.shape[1]
    warp = plan_warp(marks, shape, width, height)
    if warp is None:
        return planar
    out = planar.copy()
    _apply(out[:height], warp, INNER_MOUTH_YUV[0])
    chroma = out[height:].reshape(2, height // 2, width // 2)  # a view: written in place
    _apply(chroma[0], warp, INNER_MOUTH_YUV[1], half=True)
    _apply(chroma[1], warp, INNER_MOUTH_YUV[2], half=True)
    return out


def animate_rgb(rgb: np.ndarray, marks: Landmarks | None, shape: MouthShape) -> np.ndarray:
    """The same on an RGB array; the input array itself when nothing moves."""
    if marks is None or shape.is_still:
        return rgb
    warp = plan_warp(marks, shape, rgb.shape[1], rgb.shape[0])
    if warp is None:
        return rgb
    out = rgb.copy()
    _apply(out, warp, INNER_MOUTH_RGB)
    return out
