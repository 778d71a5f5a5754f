"""Two people in frame: the user says who speaks, only that mouth moves, and the job page
says in words whether it moves in time."""

import re

import av
import numpy as np
import pytest
from django.urls import reverse

from lipsync_site.credits.models import CreditAccount
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media.faces import find_faces, landmarks_in
from lipsync_site.media.selectors import speaker_faces
from tests import mediafactory
from tests.factories import upload, workspace_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_people(media_dir):
    return mediafactory.make_presenter_clip(
        media_dir / "interview.mp4", width=960, height=540, seconds=2.0, face_height=0.3, faces=2
    )


@pytest.fixture
def speech(media_dir):
    return mediafactory.make_speech(media_dir / "voix-off.wav", seconds=2.0)


def form_data(clip, voice, **overrides):
    data = {
        "shape": "video_audio",
        "source_video": upload(clip),
        "voice_audio": upload(voice),
        "route": "local-draft",
        "mismatch_mode": "cut_off",
        "person_name": "Ada Example",
        "likeness_consent": "on",
        "voice_provenance": "own",
        "no_misuse": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def mouth_change(output, source, face_box):
    """Mean change around the lips of the face in ``face_box`` between two clips."""
    with av.open(str(output)) as a, av.open(str(source)) as b:
        changes = []
        for frame_a, frame_b in zip(a.decode(video=0), b.decode(video=0), strict=False):
            ga, gb = frame_a.to_ndarray(format="gray"), frame_b.to_ndarray(format="gray")
            lips = landmarks_in(gb, face_box).points[48:68]
            (x0, y0), (x1, y1) = lips.min(axis=0).astype(int) - 10, lips.max(axis=0).astype(int) + 20
            changes.append(np.abs(ga[y0:y1, x0:x1].astype(int) - gb[y0:y1, x0:x1]).mean())
    return float(np.mean(changes))


def test_the_chosen_person_speaks_and_the_page_says_the_mouth_is_in_time(
    owner_client, owner, two_people, speech, sync_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("jobs:new"), form_data(two_people, speech, speaker="2"))
    assert response.status_code == 302
    job = Job.objects.get(owner=owner)
    assert job.status == Status.SUCCEEDED, list(job.events.values_list("message", flat=True))
    faces = speaker_faces(job.source_video)
    assert job.speaker_index == 2 and job.options["speaker_box"] == list(faces[1].box)

    # Only the right-hand person's mouth moved.
    with av.open(job.source_video.file.path) as container:
        first = next(container.decode(video=0)).to_ndarray(format="gray")
    left, right = sorted(find_faces(first), key=lambda face: face.box.x)
    output, source = job.output.file.path, job.source_video.file.path
    assert mouth_change(output, source, right.box) > 4 * mouth_change(output, source, left.box)

    # The check measured the chosen face, and says so in words.
    assert job.mouth_moving and [face["checked"] for face in job.lipsync_details["faces"]] == [False, True]
    assert job.lipsync_offset_ms is not None and abs(job.lipsync_offset_ms) <= 80
    html = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    check = re.search(r'<p class="muted" id="lipsync-check"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "mouth in time" in check and 'data-problems=""' in html
    history = owner_client.get(reverse("jobs:list")).content.decode()
    assert "mouth in time" in history


def test_a_face_number_that_is_not_in_the_picture_holds_nothing(owner_client, owner, two_people, speech):
    response = owner_client.post(reverse("jobs:new"), form_data(two_people, speech, speaker="3"))
    assert response.status_code == 400
    assert "There is no face 3 in the picture" in response.content.decode()
    assert not Job.objects.exists()


def test_the_form_offers_the_faces_and_says_which_routes_cannot_be_told(owner_client, two_people, speech):
    response = owner_client.post(
        reverse("jobs:new"),
        {
            "shape": "video_audio",
            "step": "check",
            "source_video": upload(two_people),
            "voice_audio": upload(speech),
            "mismatch_mode": "cut_off",
        },
    )
    speakers = response.context["speakers"]
    assert [face.index for face in speakers] == [1, 2]
    assert response.context["speaker_poster_url"].startswith("/media/")
    html = response.content.decode()
    local = re.search(r'<li data-route="local-draft".*?</li>', html, re.S).group(0)
    premium = re.search(r'<li data-route="sync-v2-pro".*?</li>', html, re.S).group(0)
    assert "cannot be told who speaks" not in local
    assert "cannot be told who speaks" in premium


def test_one_face_asks_nothing(owner_client, media_dir, speech):
    clip = mediafactory.make_presenter_clip(media_dir / "solo.mp4", width=640, height=360, seconds=1.0)
    response = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": upload(clip), "voice_audio": upload(speech)},
    )
    assert response.context["speakers"] == []
    assert "cannot be told who speaks" not in response.content.decode()


def test_remap_past_double_length_is_refused_before_any_credit_is_held(owner_client, owner, media_dir):
    clip = mediafactory.make_face_video(media_dir / "short.mp4", seconds=1.0, size=320)
    long_voice = mediafactory.make_speech(media_dir / "long.wav", seconds=5.0)
    check = owner_client.post(
        reverse("jobs:new"),
        {
            "shape": "video_audio",
            "step": "check",
            "source_video": upload(clip),
            "voice_audio": upload(long_voice),
            "mismatch_mode": "remap",
        },
    ).content.decode()
    assert 'data-code="remap" data-level="block"' in check
    response = owner_client.post(reverse("jobs:new"), form_data(clip, long_voice, mismatch_mode="remap"))
    assert response.status_code == 400 and "between half and double speed" in response.content.decode()
    assert not Job.objects.exists() and CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000
