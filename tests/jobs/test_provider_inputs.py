"""The public input links providers fetch: a valid link serves the file and logs the fetch;
everything else is a 404 that says nothing about the file."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.urls import reverse

from lipsync_site.jobs.models import EventKind, Status
from lipsync_site.jobs.workflow.submit import provider_input_url
from lipsync_site.media import links
from lipsync_site.media.services import revoke_links
from tests.factories import end

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def job(make_job):
    return make_job()


def test_a_valid_link_serves_the_input_and_logs_the_fetch(client, job):
    response = client.get(path_of(provider_input_url(job.voice, job_id=job.pk)), headers={"User-Agent": "fetcher/1"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == job.voice.file.open("rb").read()
    event = job.events.get(kind=EventKind.INPUT_FETCHED)
    assert event.actor == "provider" and event.payload["agent"] == "fetcher/1"
    end(job)


def test_a_tampered_link_is_a_404(client, job):
    url = path_of(provider_input_url(job.voice, job_id=job.pk))
    token = url.split("/inputs/")[1].split("/")[0]
    tampered = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(tampered).status_code == 404
    end(job)


def test_a_revoked_link_is_a_404(client, job):
    url = path_of(provider_input_url(job.voice, job_id=job.pk))
    revoke_links(asset_ids=[job.voice.pk])
    assert client.get(url).status_code == 404
    end(job)


def test_an_expired_link_is_a_404(client, job, settings):
    url = path_of(provider_input_url(job.voice, job_id=job.pk))
    settings.PROVIDER_LINK_MAX_AGE_SECONDS = -1
    assert client.get(url).status_code == 404
    end(job)


def test_a_link_of_another_purpose_is_a_404(client, job, owner):
    token = links.make_token(job.voice, links.Purpose.VIEW, user_id=owner.pk)
    assert client.get(reverse("jobs:input", kwargs={"token": token, "filename": "input.wav"})).status_code == 404
    end(job)


def test_a_finished_job_serves_no_inputs(client, job):
    url = path_of(provider_input_url(job.voice, job_id=job.pk))
    end(job)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert client.get(url).status_code == 404


def test_an_asset_that_is_not_the_jobs_input_is_a_404(client, job, make_job):
    other = make_job()
    token = links.make_token(job.voice, links.Purpose.PROVIDER, job_id=str(other.pk))
    other.voice = None
    type(other).objects.filter(pk=other.pk).update(voice=None)
    assert client.get(reverse("jobs:input", kwargs={"token": token, "filename": "input.wav"})).status_code == 404
    end(job)
    end(other)


def test_a_link_for_an_unknown_job_is_a_404(client, job):
    token = signing.dumps(
        {"a": job.voice.pk.hex, "g": job.voice.link_generation, "u": None, "j": "00000000-0000-0000-0000-000000000000"},
        salt="lipsync_site.media.link.provider",
        compress=True,
    )
    assert client.get(reverse("jobs:input", kwargs={"token": token, "filename": "input.wav"})).status_code == 404
    end(job)


def test_with_s3_media_a_valid_link_redirects_to_a_short_lived_presigned_url(s3_storage, make_job, client, settings):
    import httpx

    job = make_job()
    assert job.voice.file.name in s3_storage.names()
    url = path_of(provider_input_url(job.voice, job_id=job.pk))
    response = client.get(url)
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    presigned = response["Location"]
    assert presigned.startswith(s3_storage.endpoint) and f"X-Amz-Expires={settings.S3_PRESIGNED_SECONDS}" in presigned
    fetched = httpx.get(presigned, trust_env=False)
    assert fetched.status_code == 200 and fetched.content == job.voice.file.open("rb").read()
    assert fetched.headers["content-type"] == "audio/wav"
    assert fetched.headers["content-disposition"].startswith("inline")
    assert job.events.filter(kind=EventKind.INPUT_FETCHED).exists()
    # The same checks as ever come first: a revoked link redirects nowhere.
    revoke_links(asset_ids=[job.voice.pk])
    assert client.get(url).status_code == 404
    end(job)
