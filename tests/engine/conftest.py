"""Media the engine tests share: made once per session, since rendering takes seconds."""

import pytest

from lipsync_site.media.render import mux_video_with_audio
from lipsync_site.providers.local_engine import pipeline
from tests import mediafactory

SECONDS = 4.0


@pytest.fixture(scope="session")
def engine_media(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine-media")
    presenter = mediafactory.make_presenter_clip(
        root / "presenter.mp4", width=640, height=480, seconds=SECONDS, face_height=0.35
    )
    speech = mediafactory.make_speech(root / "speech.wav", seconds=SECONDS)
    engine_out = root / "engine.mp4"
    result = pipeline.resync_video(presenter, speech, engine_out, mode="cut_off")
    plain = root / "plain.mp4"
    mux_video_with_audio(presenter, speech, plain, mode="cut_off")
    return {
        "root": root,
        "presenter": presenter,
        "speech": speech,
        "engine_out": engine_out,
        "engine_result": result,
        "plain": plain,
    }
