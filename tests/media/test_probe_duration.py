"""Durations come from what plays, not from what the header claims (issue 10, point 10).

An MP3 whose header said 5 s and which played 60 s was accepted on a 10 s route and priced
for 5 s. The probe now measures the content (an audio file by decoding it, a video by its
packets' timestamps) and refuses a file whose header disagrees by more than a frame or two.
"""

from __future__ import annotations

import struct

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected, probe
from lipsync_site.media.services import store_upload
from lipsync_site.providers import catalog
from lipsync_site.providers.router import ProbeFacts, fit_problems
from tests import factories, mediafactory


def _patch_u32(data: bytearray, at: int, change) -> None:
    value = struct.unpack(">I", data[at : at + 4])[0]
    data[at : at + 4] = struct.pack(">I", change(value))


def mp3_claiming_less(path, *, plays: float, claims_fraction: float):
    """An MP3 whose Info/Xing tag counts ``claims_fraction`` of the frames it holds."""
    mediafactory.make_audio(path, seconds=plays)
    data = bytearray(path.read_bytes())
    tag = max(data.find(b"Info"), data.find(b"Xing"))
    assert tag > 0 and struct.unpack(">I", data[tag + 4 : tag + 8])[0] & 1  # a frame count is there
    _patch_u32(data, tag + 8, lambda frames: int(frames * claims_fraction))
    path.write_bytes(bytes(data))
    return path


def mp4_claiming_less(path, *, plays: float, divisor: int):
    """An MP4 whose movie, track and media headers claim a ``divisor``-th of its length."""
    mediafactory.make_video(path, seconds=plays)
    data = bytearray(path.read_bytes())
    for box, offset in ((b"mvhd", 20), (b"mdhd", 20), (b"tkhd", 24)):
        start = 0
        while (found := data.find(box, start)) >= 0:
            _patch_u32(data, found + offset, lambda value: value // divisor)
            start = found + 4
    path.write_bytes(bytes(data))
    return path


def test_an_mp3_whose_header_says_less_than_it_plays_is_refused(tmp_path):
    lying = mp3_claiming_less(tmp_path / "voice.mp3", plays=12.0, claims_fraction=1 / 12)
    with av.open(str(lying)) as container:
        assert container.duration / 1_000_000 < 1.5  # what the header claims
    with pytest.raises(MediaRejected, match=r"says it lasts 1\.0 s, but it plays for 12\.0 s"):
        probe(lying)


def test_an_mp4_whose_headers_say_less_than_it_plays_is_refused(tmp_path):
    lying = mp4_claiming_less(tmp_path / "clip.mp4", plays=6.0, divisor=6)
    with pytest.raises(MediaRejected, match=r"says it lasts 1\.0 s, but it plays for 6\.0 s"):
        probe(lying)


@pytest.mark.django_db
def test_the_refused_upload_is_never_stored_nor_priced(owner, tmp_path):
    lying = mp3_claiming_less(tmp_path / "voice.mp3", plays=12.0, claims_fraction=5 / 12)
    upload = SimpleUploadedFile("voice.mp3", lying.read_bytes())
    with pytest.raises(MediaRejected):
        store_upload(owner=owner, workspace=factories.workspace_of(owner), upload=upload, kind="audio")
    assert not Asset.objects.exists()


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".m4a", ".aac"])
def test_honest_audio_is_measured_by_decoding(suffix, tmp_path):
    facts = probe(mediafactory.make_audio(tmp_path / f"voice{suffix}", seconds=12.0))
    assert facts.duration_seconds == pytest.approx(12.0, abs=0.1)


def test_honest_video_keeps_its_length(tmp_path):
    facts = probe(mediafactory.make_video(tmp_path / "clip.mp4", seconds=3.0))
    assert facts.duration_seconds == pytest.approx(3.0, abs=0.1)


def test_an_mp3_without_a_frame_count_is_measured_not_refused(tmp_path):
    # No Xing/Info tag: FFmpeg estimates from the bit rate, a guess and no claim.
    path = mediafactory.make_audio(tmp_path / "voice.mp3", seconds=12.0)
    data = bytearray(path.read_bytes())
    tag = max(data.find(b"Info"), data.find(b"Xing"))
    data[tag : tag + 4] = b"\0\0\0\0"
    path.write_bytes(bytes(data))
    assert probe(path).duration_seconds == pytest.approx(12.0, abs=0.1)


def test_the_measured_length_is_what_route_limits_see(tmp_path):
    facts = probe(mediafactory.make_audio(tmp_path / "voice.mp3", seconds=12.0))
    kling = catalog.catalog_route("kling-lipsync-audio")  # takes up to 10 s
    problems = fit_problems(kling, ProbeFacts(audio_seconds=facts.duration_seconds, video_seconds=5.0))
    assert any("up to 10 seconds" in problem for problem in problems)
