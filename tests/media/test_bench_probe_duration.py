"""``make bench``: what measuring durations by content costs at intake, next to the probe
without it (the header's duration), measured in the same run."""

import time

import pytest

from lipsync_site.media import probe_worker
from lipsync_site.media.probe import probe
from tests import mediafactory

pytestmark = pytest.mark.bench


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("5-minute MP3 voice", lambda path: mediafactory.make_audio(path / "voice.mp3", seconds=300.0)),
        ("1-minute 320x240 MP4", lambda path: mediafactory.make_video(path / "clip.mp4", seconds=60.0)),
    ],
)
def test_measuring_by_content_next_to_the_probe_without_it(name, make, tmp_path):
    path = make(tmp_path)
    started = time.perf_counter()
    facts = probe(path)
    probe_ms = (time.perf_counter() - started) * 1000

    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0].index if container.streams.video else None
        audio = container.streams.audio[0].index if container.streams.audio else None
    started = time.perf_counter()
    measured = probe_worker.measure_seconds(str(path), video_index=video, audio_index=audio)
    measure_ms = (time.perf_counter() - started) * 1000

    assert measured == pytest.approx(facts.duration_seconds) and measured > 50
    print(
        f"{name}: probe {probe_ms:.0f} ms in all; measuring the content {measure_ms:.0f} ms; "
        f"the probe without it (baseline) {probe_ms - measure_ms:.0f} ms"
    )
