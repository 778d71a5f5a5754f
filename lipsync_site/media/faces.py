"""Faces: found by dlib's HOG detector, read by dlib's 68-point landmark model, followed
through a clip.

The landmark model (``shape_predictor_68_face_landmarks.dat``) ships inside the
``face-recognition-models`` wheel, so nothing is downloaded at run time. Its package's
``__init__`` imports ``pkg_resources`` (gone from current setuptools), so the file is
located through the distribution's file list and the package is never imported.

Points 48-59 are the outer lip contour, 60-67 the inner one (60 and 64 the inner
corners, 62 and 66 the middle of the upper and lower inner lip); 36-47 the eyes, 8 the
chin, 33 the base of the nose.

OpenCV's Haar cascade keeps one job: a second opinion on frames HOG cannot read (heavy
grain, soft focus). It is asked only when HOG finds nothing, only its confident hits
count (weak ones are patterns on clothes), and its box is converted to the HOG box the
landmark model was trained on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np

LANDMARK_MODEL = "shape_predictor_68_face_landmarks.dat"
DETECT_WIDTH = 640  # full-frame detection runs on a copy this wide
# HOG's window is 80 px: at DETECT_WIDTH a face narrower than an eighth of the frame
# needs the upsampled pass (four times the work, so only when the first pass is empty).
LANDMARK_FACE_SIZE = 160  # landmarks are read on a crop scaled so the face is this wide
HOG_THRESHOLD = 0.0
CONFIDENT = 0.5  # HOG scores below this are confirmed on a closer crop before they count
CONFIRMED = 0.3  # what the closer look must score (faces score 0.7 to 1.4 there, patterns less)
STILL_THERE = -0.5  # what a face being followed must score to count as still there
HAAR_MIN_CONFIDENCE = 1.5  # the cascade's level weight; weaker hits are patterns on clothes
# A Haar box is taller and starts higher than the HOG box for the same face (measured on
# the astronaut at four scales): HOG ~= (x, y + 0.14 h, 0.95 w, 0.95 h).
HAAR_TO_HOG = (0.0, 0.14, 0.95)

UPPER_INNER = (61, 62, 63)
LOWER_INNER = (67, 66, 65)  # each below its UPPER_INNER partner
RIGID = slice(17, 48)  # brows, nose and eyes: they do not move when the mouth opens


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def blend(self, other: FaceBox, weight: float) -> FaceBox:
        keep = 1.0 - weight
        return FaceBox(
            self.x * keep + other.x * weight,
            self.y * keep + other.y * weight,
            self.w * keep + other.w * weight,
            self.h * keep + other.h * weight,
        )

    def scaled(self, sx: float, sy: float | None = None) -> FaceBox:
        sy = sx if sy is None else sy
        return FaceBox(self.x * sx, self.y * sy, self.w * sx, self.h * sy)

    def iou(self, other: FaceBox) -> float:
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.w and self.y <= y <= self.y + self.h

    def fractions(self, width: int, height: int) -> list[float]:
        """[x, y, w, h] as fractions of a frame, as preflight stores them."""
        return [
            round(self.x / width, 4),
            round(self.y / height, 4),
            round(self.w / width, 4),
            round(self.h / height, 4),
        ]

    @classmethod
    def from_fractions(cls, values, width: int, height: int) -> FaceBox:
        x, y, w, h = (float(value) for value in values)
        return cls(x * width, y * height, w * width, h * height)


@dataclass(frozen=True)
class DetectedFace:
    box: FaceBox  # in the HOG convention, image pixels
    score: float
    detector: str = "hog"  # or "haar"


# --- the models -------------------------------------------------------------------------
def landmark_model_path() -> Path:
    """Where the installed ``face-recognition-models`` wheel keeps the 68-point model."""
    # Imported here: it costs a media check (which never reads landmarks) tens of ms.
    import importlib.metadata

    try:
        distribution = importlib.metadata.distribution("face-recognition-models")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("face-recognition-models is not installed (see requirements.txt)") from None
    for entry in distribution.files or ():
        if entry.name == LANDMARK_MODEL:
            path = Path(entry.locate())
            if path.is_file():
                return path
    raise RuntimeError(f"{LANDMARK_MODEL} is missing from the face-recognition-models installation")


@cache
def landmark_predictor():
    import dlib

    return dlib.shape_predictor(str(landmark_model_path()))


def _detector_cache() -> Path:
    import dlib

    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lipsync_site"
    return root / f"dlib-{dlib.__version__}-frontal-face.svm"


@cache
def hog_detector():
    """dlib's frontal face detector. Building it from dlib's built-in copy takes a second
    or two, which every analysis subprocess would pay; loading it back from a saved copy
    takes a millisecond, so the first build is kept in a private cache file."""
    import dlib

    path = _detector_cache()
    try:
        return dlib.fhog_object_detector(str(path))
    except RuntimeError:
        pass  # not cached yet (or unreadable): build it
    detector = dlib.get_frontal_face_detector()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        detector.save(str(partial))
        partial.replace(path)  # atomic: a reader never sees half a file
    except OSError:
        pass  # a read-only home: build it every time, slower but correct
    return detector


@cache
def cascade() -> cv2.CascadeClassifier:
    classifier = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if classifier.empty():
        raise RuntimeError("OpenCV's frontal-face cascade is missing (opencv-python-headless 4.x ships it)")
    return classifier


# --- finding faces ------------------------------------------------------------------------
def gray_of(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _downscaled(gray: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, width / gray.shape[1])
    if scale >= 1.0:
        return np.ascontiguousarray(gray), 1.0
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def _hog(gray: np.ndarray, upsample: int, threshold: float = HOG_THRESHOLD) -> list[DetectedFace]:
    rects, scores, _ = hog_detector().run(gray, upsample, threshold)
    return [
        DetectedFace(FaceBox(rect.left(), rect.top(), rect.width(), rect.height()), float(score))
        for rect, score in zip(rects, scores, strict=True)
    ]


def haar_faces(gray: np.ndarray, *, min_side: int = 20) -> list[DetectedFace]:
    """The cascade's confident hits, as HOG-convention boxes."""
    equalised = cv2.equalizeHist(gray)
    found, _, weights = cascade().detectMultiScale3(
        equalised, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side), outputRejectLevels=True
    )
    dx, dy, size = HAAR_TO_HOG
    return [
        DetectedFace(FaceBox(x + dx * w, y + dy * h, w * size, h * size), float(weight), "haar")
        for weight, (x, y, w, h) in zip(np.ravel(weights), [tuple(box) for box in found], strict=True)
        if weight >= HAAR_MIN_CONFIDENCE
    ]


def merge_overlapping(faces: list[DetectedFace]) -> list[DetectedFace]:
    """One entry per face: a detection that overlaps a stronger one (or whose centre lies
    inside it) is the same face seen twice, at another scale or by another detector."""
    kept: list[DetectedFace] = []
    for face in sorted(faces, key=lambda found: found.score, reverse=True):
        cx, cy = face.box.centre
        if any(face.box.iou(other.box) > 0.25 or other.box.contains(cx, cy) for other in kept):
            continue
        kept.append(face)
    return kept


def find_faces(
    image: np.ndarray, *, detect_width: int = DETECT_WIDTH, small_faces: bool = True, second_opinion: bool = True
) -> list[DetectedFace]:
    """Every face in an RGB frame or a luma plane, overlapping detections merged (one face
    is never reported twice), most confident first, boxes in the image's own pixels.

    ``small_faces`` adds the upsampled HOG pass, which finds faces down to a sixteenth of
    the frame's width (four times the work of the first pass); ``second_opinion`` asks the
    Haar cascade when HOG finds nothing.
    """
    search = FaceSearch(image, detect_width=detect_width)
    if small_faces:
        search.look_for_small_faces()
    return search.faces(second_opinion=second_opinion)


class FaceSearch:
    """``find_faces`` in steps, for a caller that decides after the plain HOG pass whether
    the costlier looks (small faces, Haar's second opinion) are worth it on this frame."""

    def __init__(self, image: np.ndarray, *, detect_width: int = DETECT_WIDTH):
        self.gray = gray_of(image)
        self.small, self.scale = _downscaled(self.gray, detect_width)
        self.found = _hog(self.small, 0)
        self.looked_for_small_faces = False

    def look_for_small_faces(self) -> None:
        if not self.looked_for_small_faces:
            self.found = self.found + _hog(self.small, 1)
            self.looked_for_small_faces = True

    def faces(self, *, second_opinion: bool = True) -> list[DetectedFace]:
        scale = self.scale
        faces = [DetectedFace(face.box.scaled(1 / scale), face.score) for face in merge_overlapping(self.found)]
        faces = [face for face in faces if face.score >= CONFIDENT or _confirmed_closer(self.gray, face.box)]
        if not faces and second_opinion:
            faces = [DetectedFace(face.box.scaled(1 / scale), face.score, "haar") for face in haar_faces(self.small)]
        return faces


def _crop_scaled(gray: np.ndarray, box: FaceBox, *, face_size: float, margin: float):
    """A crop around ``box`` scaled so the box is ``face_size`` wide, with the factor and
    the crop's origin in ``gray``."""
    height, width = gray.shape[:2]
    pad = box.w * margin
    x0, y0 = int(max(0, box.x - pad)), int(max(0, box.y - pad))
    x1, y1 = int(min(width, box.x + box.w + pad)), int(min(height, box.y + box.h + pad))
    factor = face_size / max(1.0, box.w)
    size = (max(8, round((x1 - x0) * factor)), max(8, round((y1 - y0) * factor)))
    crop = cv2.resize(gray[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    return crop, factor, x0, y0


def _confirmed_closer(gray: np.ndarray, box: FaceBox) -> bool:
    """A weak detection is looked at again on a crop where it is 120 px wide, the size
    HOG reads best: a real face scores again, a pattern on a shirt does not."""
    crop, factor, x0, y0 = _crop_scaled(gray, box, face_size=120.0, margin=0.5)
    local = FaceBox((box.x - x0) * factor, (box.y - y0) * factor, box.w * factor, box.h * factor)
    return any(face.box.iou(local) > 0.3 and face.score >= CONFIRMED for face in _hog(crop, 0))


# --- landmarks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Landmarks:
    """68 points (x, y) in frame pixels, float."""

    points: np.ndarray = field(repr=False)

    @property
    def interocular(self) -> float:
        """Distance between the eye centres: the face's scale, unmoved by the mouth."""
        return float(np.linalg.norm(self.points[42:48].mean(axis=0) - self.points[36:42].mean(axis=0)))

    @property
    def inner_opening(self) -> float:
        """How far apart the inner lips are, in pixels (mean of three vertical gaps)."""
        upper = self.points[list(UPPER_INNER)]
        lower = self.points[list(LOWER_INNER)]
        return float(np.clip(np.linalg.norm(lower - upper, axis=1), 0, None).mean())

    @property
    def mouth_width(self) -> float:
        return float(np.linalg.norm(self.points[54] - self.points[48]))

    def relative_opening(self) -> float:
        """Inner-lip opening as a fraction of the eye distance: comparable across faces
        and resolutions."""
        return self.inner_opening / max(1.0, self.interocular)

    def bounds(self) -> FaceBox:
        x0, y0 = self.points.min(axis=0)
        x1, y1 = self.points.max(axis=0)
        return FaceBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    def shifted(self, dx: float, dy: float) -> Landmarks:
        return Landmarks(self.points + np.array([dx, dy], dtype=np.float32))


def landmarks_in(gray: np.ndarray, box: FaceBox) -> Landmarks:
    """The 68 points of the face in ``box``. dlib gives whole pixels, so a face narrower
    than LANDMARK_FACE_SIZE is read on an enlarged crop (sub-pixel precision where it
    matters); a larger one is read in place (the model's cost does not depend on size)."""
    import dlib

    gray = np.ascontiguousarray(gray)
    height, width = gray.shape[:2]
    if box.w >= LANDMARK_FACE_SIZE:
        rect = dlib.rectangle(round(box.x), round(box.y), round(box.x + box.w), round(box.y + box.h))
        shape = landmark_predictor()(gray, rect)
        return Landmarks(np.array([(point.x, point.y) for point in shape.parts()], dtype=np.float32))
    margin = box.w * 0.35
    x0, y0 = int(max(0, box.x - margin)), int(max(0, box.y - margin))
    x1, y1 = int(min(width, box.x + box.w + margin)), int(min(height, box.y + box.h + margin))
    if x1 - x0 < 8 or y1 - y0 < 8:
        x0, y0, x1, y1 = 0, 0, width, height
    factor = LANDMARK_FACE_SIZE / max(1.0, box.w)
    size = (max(8, round((x1 - x0) * factor)), max(8, round((y1 - y0) * factor)))
    crop = cv2.resize(gray[y0:y1, x0:x1], size, interpolation=cv2.INTER_LINEAR)
    fx, fy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    rect = dlib.rectangle(
        round((box.x - x0) * fx),
        round((box.y - y0) * fy),
        round((box.x + box.w - x0) * fx),
        round((box.y + box.h - y0) * fy),
    )
    shape = landmark_predictor()(crop, rect)
    points = np.array([(point.x, point.y) for point in shape.parts()], dtype=np.float32)
    points[:, 0] = points[:, 0] / fx + x0
    points[:, 1] = points[:, 1] / fy + y0
    return Landmarks(points)


def _rigid_frame(points: np.ndarray) -> tuple[np.ndarray, float]:
    rigid = points[RIGID]
    centre = rigid.mean(axis=0)
    spread = float(np.sqrt(((rigid - centre) ** 2).sum(axis=1).mean()))
    return centre, max(spread, 1.0)


def choose_face(faces: list[DetectedFace], near: FaceBox | None) -> DetectedFace | None:
    """The detection that is the face near ``near`` (the one chosen, or the one last
    followed); with no such face, None. With nothing to match, the largest clear face."""
    if not faces:
        return None
    if near is None:
        # The largest of the clearly seen faces (a weak hit never beats a clear one).
        best = max(face.score for face in faces)
        return max((face for face in faces if face.score >= best / 2), key=lambda face: face.box.w * face.box.h)
    cx, cy = near.centre
    scale = max(near.w, near.h)

    def distance(face: DetectedFace) -> float:
        fx, fy = face.box.centre
        return float(np.hypot(fx - cx, fy - cy)) / scale

    best = min(faces, key=distance)
    return best if distance(best) < 0.75 or best.box.iou(near) > 0.2 else None


class FaceTracker:
    """Follows one face through a clip by its landmarks.

    The face is found by a full-frame detection (the one nearest ``target``, a box in
    frame pixels, when given; else the largest), then followed frame to frame from its
    own landmarks: the box for the next frame is placed from the rigid points (brows,
    eyes, nose) with the offset the detector gave. Every ``verify_every`` frames a
    detection on a crop around the face confirms it is still there; two misses in a row
    and it is lost, and searched for again every ``search_every`` frames near where it
    was last seen (less and less often while nothing turns up, so a clip without the face
    costs little).

    ``smoothing`` steadies the points of a still face (the engine wants a calm mouth);
    the output check leaves it off, since a lag would bias the offset it measures.
    """

    def __init__(
        self,
        *,
        target: FaceBox | None = None,
        verify_every: int = 12,
        search_every: int = 6,
        smoothing: bool = False,
        detect_width: int = DETECT_WIDTH,
    ):
        self.target = target
        self.verify_every = verify_every
        self.search_every = search_every
        self.smoothing = smoothing
        self.detect_width = detect_width
        self.box: FaceBox | None = None
        self.detector = "hog"
        self.landmarks: Landmarks | None = None
        self._offset = np.zeros(2, dtype=np.float32)
        self._size_ratio = 1.0
        self._since_check = 0
        self._since_search = 0
        self._search_gap = 0  # search at once on the first frame
        self._misses = 0
        self.frames_with_face = 0
        self.frames_seen = 0

    def _anchor(self, gray: np.ndarray, face: DetectedFace) -> Landmarks:
        self.box, self.detector = face.box, face.detector
        marks = landmarks_in(gray, face.box)
        centre, spread = _rigid_frame(marks.points)
        bx, by = face.box.centre
        self._offset = (np.array([bx, by], dtype=np.float32) - centre) / spread
        self._size_ratio = face.box.w / spread
        return marks

    def _search(self, gray: np.ndarray) -> Landmarks | None:
        near = self.box or self.target
        face = choose_face(find_faces(gray, detect_width=self.detect_width), near)
        if face is None:
            return None
        self._misses = 0
        self._since_check = 0
        return self._anchor(gray, face)

    def _confirm(self, gray: np.ndarray) -> bool:
        """A detection on a crop around the face: is it still a face, and where exactly?"""
        box = self.box
        crop, factor, x0, y0 = _crop_scaled(gray, box, face_size=120.0, margin=0.6)
        # A face already followed needs less proof than a new one: a weaker score will do.
        found = haar_faces(crop) if self.detector == "haar" else _hog(crop, 0, STILL_THERE)
        local = FaceBox((box.x - x0) * factor, (box.y - y0) * factor, box.w * factor, box.h * factor)
        match = choose_face(found, local)
        if match is None:
            return False
        seen = match.box
        self.box = box.blend(FaceBox(seen.x / factor + x0, seen.y / factor + y0, seen.w / factor, seen.h / factor), 0.5)
        return True

    def update(self, image: np.ndarray) -> Landmarks | None:
        """Feed the next frame (a luma plane or RGB); the face's landmarks, or None."""
        gray = gray_of(image)
        self.frames_seen += 1
        marks = None
        if self.box is None:
            if self._since_search >= self._search_gap:
                self._since_search = 0
                marks = self._search(gray)
                # Nothing: wait longer before the next search (up to two seconds at 25 fps).
                self._search_gap = (
                    self.search_every if marks is not None else min(50, max(self.search_every, self._search_gap * 2))
                )
            self._since_search += 1
            if marks is None:
                self.landmarks = None
                return None
        else:
            self._since_check += 1
            if self._since_check >= self.verify_every:
                self._since_check = 0
                if self._confirm(gray):
                    self._misses = 0
                else:
                    self._misses += 1
                    if self._misses >= 2:
                        self.box, self.landmarks = None, None
                        self._since_search, self._search_gap = 0, self.search_every
                        return None
            marks = landmarks_in(gray, self.box)
        marks = self._steady(marks)
        centre, spread = _rigid_frame(marks.points)
        cx, cy = centre + self._offset * spread
        size = self._size_ratio * spread
        self.box = FaceBox(float(cx - size / 2), float(cy - size / 2), float(size), float(size))
        self.landmarks = marks
        self.frames_with_face += 1
        return marks

    def _steady(self, marks: Landmarks) -> Landmarks:
        previous = self.landmarks
        if not self.smoothing or previous is None:
            return marks
        _, spread = _rigid_frame(marks.points)
        moved = float(np.abs(marks.points[RIGID] - previous.points[RIGID]).mean()) / spread
        # Still: follow at 45% a frame (jitter averages out); moving: follow at once.
        weight = float(np.clip(0.45 + moved * 40.0, 0.45, 1.0))
        return Landmarks(previous.points + (marks.points - previous.points) * weight)
