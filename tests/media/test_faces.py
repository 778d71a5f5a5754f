"""Finding faces with HOG, reading their landmarks, and the Haar cascade's one job."""

import subprocess
import sys

import av
import cv2
import numpy as np

from lipsync_site.media.faces import (
    DetectedFace,
    FaceBox,
    find_faces,
    haar_faces,
    landmark_model_path,
    landmarks_in,
    merge_overlapping,
)
from tests import mediafactory


def gray(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_the_landmark_model_is_found_without_importing_its_package():
    code = (
        "import sys; from lipsync_site.media.faces import landmark_model_path, landmark_predictor; "
        "print(landmark_model_path().stat().st_size); landmark_predictor(); "
        "print('face_recognition_models' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 90_000_000 and out[1] == "False"
    assert landmark_model_path().name == "shape_predictor_68_face_landmarks.dat"


def test_the_astronauts_face_and_lips_are_where_they_are():
    faces = find_faces(mediafactory.astronaut())
    assert len(faces) == 1 and faces[0].detector == "hog"
    box = faces[0].box
    assert 170 < box.x < 190 and 75 < box.y < 95 and 80 < box.w < 100
    marks = landmarks_in(gray(mediafactory.astronaut()), box)
    left, right = marks.points[48], marks.points[54]
    assert 195 < left[0] < 208 and 240 < right[0] < 252 and 130 < left[1] < 150
    # She smiles with her teeth showing: the inner lips are apart.
    assert 0.08 < marks.relative_opening() < 0.25


def test_one_face_seen_at_two_scales_is_reported_once():
    face = FaceBox(100, 100, 80, 80)
    same_bigger = FaceBox(94, 92, 95, 95)
    elsewhere = FaceBox(400, 100, 80, 80)
    merged = merge_overlapping([DetectedFace(face, 1.2), DetectedFace(same_bigger, 0.4), DetectedFace(elsewhere, 0.9)])
    assert [found.box for found in merged] == [face, elsewhere]


def test_single_face_clips_count_one_face_at_every_size(tmp_path):
    """The trial's "2 faces are in frame" on single-face clips: never again."""
    for width, height in ((854, 480), (1280, 720), (1920, 1080), (1080, 1920)):
        clip = mediafactory.make_presenter_clip(
            tmp_path / f"{width}.mp4", width=width, height=height, seconds=0.2, face_height=0.25
        )
        assert len(find_faces(first_frame(clip))) == 1, (width, height)


def test_a_face_too_small_for_the_first_pass_is_found_by_the_upsampled_one():
    """A face 90 px wide in a 1920 px frame (under 5% of its width)."""
    canvas = np.full((1080, 1920), 120, dtype=np.uint8)
    canvas[200:712, 900:1412] = gray(mediafactory.astronaut())
    assert find_faces(canvas, small_faces=False, second_opinion=False) == []
    faces = find_faces(canvas)
    assert len(faces) == 1 and faces[0].detector == "hog"
    assert faces[0].box.iou(FaceBox(900 + 179, 200 + 83, 88, 88)) > 0.6


def first_frame(path):
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="gray")


def test_a_pattern_on_the_suit_is_not_a_face(tmp_path):
    """HOG scores the astronaut's mission patch just above zero once encoded; a closer
    look turns it down."""
    frame = first_frame(mediafactory.make_face_video(tmp_path / "face.mp4", seconds=0.04, size=512))
    faces = find_faces(frame)
    assert len(faces) == 1 and faces[0].box.y < 150


def test_the_haar_cascade_speaks_only_when_hog_sees_nothing(tmp_path):
    grainy = np.clip(
        gray(mediafactory.astronaut()) + np.random.default_rng(0).normal(0, 30, (512, 512)), 0, 255
    ).astype(np.uint8)
    assert find_faces(grainy, second_opinion=False) == []
    faces = find_faces(grainy)
    assert len(faces) == 1 and faces[0].detector == "haar"
    # Converted to the HOG convention the landmark model expects: close to HOG's own box.
    assert faces[0].box.iou(FaceBox(179, 83, 88, 88)) > 0.7
    # And its weak hits (clothes, patterns) do not count.
    frame = first_frame(mediafactory.make_video(tmp_path / "pattern.mp4", seconds=0.04))
    assert haar_faces(frame) == [] and find_faces(frame) == []
