"""The output check's figures in words a marketer understands, and what gets flagged."""

import pytest

from lipsync_site.media.lipsync_check import describe_drift, describe_offset, describe_score, in_words, problems


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (0, "mouth in time"),
        (-75, "mouth in time"),
        (80, "mouth in time"),
        (203, "about 200 ms late"),
        (-118, "about 120 ms early"),
        (None, ""),
    ],
)
def test_offsets_in_words(offset, words):
    assert describe_offset(offset) == words


def test_drift_in_words():
    assert describe_drift(-47.2) == "the last 47 s have no picture"
    assert describe_drift(-3.04) == "the last 3.0 s have no picture"
    assert describe_drift(-3.04, sound_outlasts_picture=False) == "the last 3.0 s of the voice are missing"
    assert describe_drift(2.5) == "the picture runs 2.5 s past the end of the voice"
    assert describe_drift(0.3) == "" and describe_drift(None) == ""


def test_scores_in_words():
    assert describe_score(0.8) == "the mouth follows the voice closely"
    assert describe_score(0.35) == "the mouth follows the voice"
    assert describe_score(0.1) == "the mouth may not be moving with the voice"
    assert describe_score(0.9, face_found=False) == "no face was found in the output"


def test_a_whole_check_in_words_and_flags():
    assert in_words(face_found=True, score=0.7, offset_ms=10, drift_seconds=0.02) == [
        "the mouth follows the voice closely",
        "mouth in time",
    ]
    assert in_words(face_found=True, score=0.6, offset_ms=200, drift_seconds=-47.0) == [
        "the mouth follows the voice closely",
        "about 200 ms late",
        "the last 47 s have no picture",
    ]
    # An offset is only worth saying when the mouth follows the voice at all.
    assert in_words(face_found=True, score=0.1, offset_ms=None, drift_seconds=0.0) == [
        "the mouth may not be moving with the voice"
    ]
    assert problems(face_found=True, mouth_moving=True, offset_ms=200, drift_seconds=-47.0) == ["offset", "drift"]
    assert problems(face_found=True, mouth_moving=True, offset_ms=100, drift_seconds=0.8) == []
    assert problems(face_found=False, mouth_moving=False, offset_ms=None, drift_seconds=None) == ["no_face"]
