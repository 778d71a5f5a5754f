"""The moderation tests' people and media: a moderator with the group's permissions, a clip
with a real face, and jobs made through creation (the local draft runs them)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from lipsync_site.jobs import services
from lipsync_site.media.services import store_upload
from lipsync_site.moderation.apps import MODERATORS_GROUP
from tests import mediafactory
from tests.factories import workspace_of


@pytest.fixture
def moderator(db):
    user = get_user_model().objects.create_user("mod", password="pw-modmod", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


@pytest.fixture
def moderator_client(moderator):
    # Its own client: tests also use the owner's (the shared ``client`` fixture).
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def face_clip(media_dir):
    return mediafactory.make_video(
        media_dir / "face.mp4", seconds=2.0, width=256, height=256, picture=mediafactory.astronaut()[::2, ::2].copy()
    )


def create_local_job(owner, face_clip, voice, *, person="Ada Example", public_figure=False):
    video = store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("face.mp4", face_clip.read_bytes()),
        kind="video",
    )
    audio = store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("voice.wav", voice.read_bytes()),
        kind="audio",
    )
    return services.create_job(
        owner=owner,
        workspace=workspace_of(owner),
        inputs=services.JobInputs(shape="video_audio", route_id="local-draft", source_video=video, voice=audio),
        consent=services.Consent(likeness_consent=True, voice_provenance="own", person_name=person),
    )


def decide_url(job):
    return reverse("admin:consent_attestation_decide", args=[job.attestation_id])
