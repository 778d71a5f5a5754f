"""Opening the mouth: a smooth warp of the lower face plus a darker, feathered opening.

Everything happens inside a region around the mouth whose displacement and blend both
fall to zero at its edges, so no seam shows.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipsync_site.media.faces import FaceBox

MAX_DROP = 0.11  # jaw drop at full loudness, as a fraction of the face height
INNER_MOUTH_RGB = np.array([52, 18, 20], dtype=np.float32)
INNER_MOUTH_YUV = (31.0, 122.0, 143.0)  # the same colour in BT.601 limited range


def mouth_region(box: FaceBox, frame_width: int, frame_height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the region the warp may touch: the lower part of the face box."""
    cx = box.x + box.w / 2
    x0 = int(max(0, cx - box.w * 0.36))
    x1 = int(min(frame_width, cx + box.w * 0.36))
    y0 = int(max(0, box.y + box.h * 0.58))
    y1 = int(min(frame_height, box.y + box.h * 1.08))
    return x0, y0, x1, y1


def lip_line(box: FaceBox) -> float:
    """Where the lips meet, in frame coordinates: a fixed proportion of the face box."""
    return box.y + box.h * 0.78


def _mouth_patch(image: np.ndarray, box: FaceBox, amount: float, inner, scale: float = 1.0) -> None:
    """Open the mouth in ``image`` in place (one plane, or an RGB array); ``scale`` maps
    frame coordinates to this plane's (0.5 for 4:2:0 chroma)."""
    box = FaceBox(box.x * scale, box.y * scale, box.w * scale, box.h * scale)
    height, width = image.shape[:2]
    x0, y0, x1, y1 = mouth_region(box, width, height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    roi = image[y0:y1, x0:x1].astype(np.float32)
    rh, rw = roi.shape[:2]
    ys, xs = np.mgrid[0:rh, 0:rw].astype(np.float32)
    cx = (box.x + box.w / 2) - x0
    ly = lip_line(box) - y0
    drop = amount * MAX_DROP * box.h

    # Horizontal falloff: strongest under the middle of the mouth.
    gx = np.exp(-(((xs - cx) / (rw * 0.30)) ** 2))
    # Vertical profile: nothing above the lips, full drop just below them, back to zero
    # at the bottom edge of the region (below the chin).
    below = np.clip((ys - ly) / max(1.0, drop * 0.6 + 2.0 * scale), 0.0, 1.0)
    rise = below * below * (3 - 2 * below)
    fall = np.clip((rh - ys) / max(1.0, rh - ly), 0.0, 1.0)
    map_y = (ys - drop * gx * rise * fall).astype(np.float32)
    warped = cv2.remap(roi, xs, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    # The opening: a dark ellipse between the lips, as tall as the drop, feathered.
    half_w = rw * 0.20 * (0.75 + 0.25 * amount)
    half_h = max(0.5, drop * 0.5)
    centre_y = ly + half_h * 0.9
    ellipse = ((xs - cx) / half_w) ** 2 + ((ys - centre_y) / half_h) ** 2
    opening = np.clip(1.2 - ellipse, 0.0, 1.0) * 0.85
    # Feather the whole patch into the untouched frame.
    edge = np.minimum.reduce([xs, rw - 1 - xs, ys, rh - 1 - ys]) / max(2.0, min(rw, rh) * 0.15)
    alpha = np.clip(edge, 0.0, 1.0)
    if roi.ndim == 3:
        opening, alpha = opening[..., None], alpha[..., None]
    shaded = warped * (1 - opening) + (warped * 0.25 + np.asarray(inner, dtype=np.float32) * 0.75) * opening
    image[y0:y1, x0:x1] = np.clip(shaded * alpha + roi * (1 - alpha), 0, 255).astype(np.uint8)


def open_mouth(rgb: np.ndarray, box: FaceBox | None, amount: float) -> np.ndarray:
    """Return the RGB frame with the mouth opened by ``amount`` (0..1). With no face or no
    sound the input array itself is returned, untouched."""
    if box is None or amount <= 0.01:
        return rgb
    out = rgb.copy()
    _mouth_patch(out, box, amount, INNER_MOUTH_RGB)
    return out


def open_mouth_yuv(planar: np.ndarray, box: FaceBox | None, amount: float) -> np.ndarray:
    """The same on a decoded 4:2:0 frame as PyAV lays it out (Y, then U, then V rows),
    so no colour conversion is needed on the way in or out."""
    if box is None or amount <= 0.01:
        return planar
    out = planar.copy()
    height = out.shape[0] * 2 // 3
    width = out.shape[1]
    luma = out[:height]
    chroma = out[height:].reshape(2, height // 2, width // 2)
    _mouth_patch(luma, box, amount, INNER_MOUTH_YUV[0])
    _mouth_patch(chroma[0], box, amount, INNER_MOUTH_YUV[1], scale=0.5)
    _mouth_patch(chroma[1], box, amount, INNER_MOUTH_YUV[2], scale=0.5)
    out[height:] = chroma.reshape(-1, width)
    return out
