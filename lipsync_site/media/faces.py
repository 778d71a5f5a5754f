"""Face finding and tracking with OpenCV 4.x's bundled frontal-face Haar cascade."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

DETECT_WIDTH = 320  # detection runs on frames downscaled to this width


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    w: float
    h: float

    def blend(self, other: FaceBox, weight: float) -> FaceBox:
        keep = 1.0 - weight
        return FaceBox(
            self.x * keep + other.x * weight,
            self.y * keep + other.y * weight,
            self.w * keep + other.w * weight,
            self.h * keep + other.h * weight,
        )


@cache
def cascade() -> cv2.CascadeClassifier:
    classifier = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if classifier.empty():
        raise RuntimeError("OpenCV's frontal-face cascade is missing (opencv-python-headless 4.x ships it)")
    return classifier


MIN_CONFIDENCE = 1.5  # the cascade's level weight; weaker hits are patterns on clothes


def detect_faces(
    image: np.ndarray,
    *,
    detect_width: int = DETECT_WIDTH,
    min_fraction: float = 0.08,
    min_confidence: float = MIN_CONFIDENCE,
) -> list[FaceBox]:
    """Faces in an RGB frame or a luma plane, most confident first, in the image's own
    pixel coordinates."""
    height, width = image.shape[:2]
    scale = min(1.0, detect_width / width)
    small = cv2.resize(
        image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    gray = cv2.equalizeHist(small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    min_side = max(20, int(min(small.shape[:2]) * min_fraction))
    found, _, weights = cascade().detectMultiScale3(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side), outputRejectLevels=True
    )
    ranked = sorted(zip(np.ravel(weights), [tuple(box) for box in found], strict=True), reverse=True)
    return [
        FaceBox(x / scale, y / scale, w / scale, h / scale)
        for weight, (x, y, w, h) in ranked
        if weight >= min_confidence
    ]


class FaceTracker:
    """Detects every ``every`` frames, smooths the box between detections, and keeps the
    last box for a short while when a detection misses (a blink of the detector, not of
    the face)."""

    def __init__(self, *, every: int = 5, smoothing: float = 0.5, hold_frames: int = 12):
        self.every = every
        self.smoothing = smoothing
        self.hold_frames = hold_frames
        self.box: FaceBox | None = None
        self.frame_index = 0
        self.missed = 0

    def update(self, image: np.ndarray) -> FaceBox | None:
        """Feed the next frame (RGB or luma); returns the smoothed face box or None."""
        if self.frame_index % self.every == 0:
            faces = detect_faces(image)
            if faces:
                self.box = faces[0] if self.box is None else self.box.blend(faces[0], self.smoothing)
                self.missed = 0
            else:
                self.missed += self.every
                if self.missed > self.hold_frames:
                    self.box = None
        self.frame_index += 1
        return self.box
