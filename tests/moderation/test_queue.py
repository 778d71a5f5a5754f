"""The moderator's queue in the admin, through the test client: who may see it, what it
shows, and what approve and reject set in motion (including after outputs exist)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from lipsync_site.consent.models import Decision
from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.jobs import services
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media import links
from lipsync_site.media.services import store_upload
from lipsync_site.moderation.apps import MODERATORS_GROUP
from tests import mediafactory
from tests.factories import workspace_of
from tests.moderation.conftest import create_local_job, decide_url

pytestmark = pytest.mark.django_db


def test_the_moderators_group_has_its_own_permissions():
    group = Group.objects.get(name=MODERATORS_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == {"moderate_attestation", "view_attestation", "view_decision"}


def test_staff_without_the_permission_cannot_open_the_queue(client, owner, face_clip, voice):
    staff = get_user_model().objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:consent_attestation_queue")).status_code == 403
    job = create_local_job(owner, face_clip, voice)
    assert client.post(decide_url(job), {"outcome": "approve"}).status_code == 403
    assert not Decision.objects.exists()


def test_owner_cannot_open_the_queue(owner_client):
    response = owner_client.get(reverse("admin:consent_attestation_queue"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_queue_lists_pending_oldest_first_with_media_answers_and_history(
    moderator_client, moderator, owner, face_clip, voice, settings, media_dir
):
    settings.CONSENT_REVIEW_POLICY = "before"
    first = create_local_job(owner, face_clip, voice, person="First Person")
    second_voice = mediafactory.make_audio(media_dir / "second.wav", seconds=2.0, freq=300)
    second = create_local_job(owner, face_clip, second_voice, person="Second Person")
    response = moderator_client.get(reverse("admin:consent_attestation_queue"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("First Person") < html.index("Second Person")
    assert "2 pending" in html
    assert 'alt="Poster frame"' in html and "<audio controls" in html
    assert "It is my own voice" in html and "version 2026-12-v4" in html
    assert "0 approved, 0 rejected, 1 other pending" in html
    # The moderator's media links work for the moderator...
    poster_url = re.search(r'<img src="([^"]+)" alt="Poster frame"', html).group(1)
    poster = moderator_client.get(poster_url)
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert poster["X-Content-Type-Options"] == "nosniff" and poster["Content-Disposition"].startswith("inline")
    assert first.poster_id and second.poster_id


def test_moderator_links_do_not_work_for_the_owner_or_an_outsider(
    moderator, owner, owner_client, client, outsider, face_clip, voice
):
    job = create_local_job(owner, face_clip, voice)
    url = links.moderator_url(job.voice, user=moderator)
    assert owner_client.get(url).status_code == 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_approving_releases_a_waiting_job(moderator_client, owner, face_clip, voice, settings):
    settings.CONSENT_REVIEW_POLICY = "before"
    job = create_local_job(owner, face_clip, voice)
    assert job.status == Status.AWAITING_REVIEW
    response = moderator_client.post(decide_url(job), {"outcome": "approve"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert job.attestation.review_state == "approved"
    assert "queue-empty" in moderator_client.get(reverse("admin:consent_attestation_queue")).content.decode()


def test_rejection_needs_a_reason(moderator_client, owner, face_clip, voice, settings):
    settings.CONSENT_REVIEW_POLICY = "before"
    job = create_local_job(owner, face_clip, voice)
    response = moderator_client.post(decide_url(job), {"outcome": "reject", "reason": "  "}, follow=True)
    assert "A rejection needs a reason" in response.content.decode()
    assert not Decision.objects.exists()


def test_rejecting_a_waiting_job_rejects_it_releases_the_hold_and_revokes_links(
    moderator_client, moderator, owner, owner_client, face_clip, voice, settings
):
    settings.CONSENT_REVIEW_POLICY = "before"
    job = create_local_job(owner, face_clip, voice)
    owner_link = links.user_url(job.source_video, links.Purpose.VIEW, user=owner)
    moderator_link = links.moderator_url(job.poster, user=moderator)
    assert owner_client.get(owner_link).status_code == 200
    response = moderator_client.post(decide_url(job), {"outcome": "reject", "reason": "No release from the actor."})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.REJECTED
    assert job.hold.status == Hold.Status.RELEASED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000
    assert owner_client.get(owner_link).status_code == 404
    assert moderator_client.get(moderator_link).status_code == 404
    decision = Decision.objects.get()
    assert decision.moderator.username == "mod" and decision.reason == "No release from the actor."
    page = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert "Consent rejected by a moderator: No release from the actor." in page


def test_rejection_after_outputs_exist_revokes_the_download(
    moderator_client, owner, owner_client, face_clip, voice, sync_tasks, django_capture_on_commit_callbacks
):
    # Policy "after" (the tests' default): the job runs at once, a later rejection revokes.
    with django_capture_on_commit_callbacks(execute=True):
        job = create_local_job(owner, face_clip, voice)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    partial = owner_client.get(reverse("jobs:status", args=[job.id]), headers={"HX-Request": "true"}).content.decode()
    download = re.search(r'id="download-link" href="([^"]+)"', partial).group(1)
    assert owner_client.get(download).status_code == 200
    charged = CreditAccount.objects.get(workspace=workspace_of(owner)).balance

    moderator_client.post(decide_url(job), {"outcome": "reject", "reason": "The speaker withdrew consent."})
    job.refresh_from_db()
    assert job.status == Status.REVOKED  # delivered, then withdrawn: its output is revoked
    assert owner_client.get(download).status_code == 404
    page = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert "The speaker withdrew consent." in page and 'id="download-link"' not in page
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == charged


def test_decisions_are_rows_never_edits(moderator, owner, face_clip, voice):
    from lipsync_site.moderation.services import approve_attestation, reject_attestation

    job = create_local_job(owner, face_clip, voice)
    approve_attestation(attestation=job.attestation, moderator=moderator)
    reject_attestation(attestation=job.attestation, moderator=moderator, reason="Changed my mind: no release.")
    assert list(job.attestation.decisions.values_list("outcome", flat=True)) == ["approved", "rejected"]
    decision = job.attestation.decisions.first()
    decision.reason = "edited"
    with pytest.raises(ValueError, match="immutable"):
        decision.save()
    with pytest.raises(ValueError, match="immutable"):
        job.attestation.delete()
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and job.hold.status == Hold.Status.RELEASED


def test_public_figure_waits_for_review_even_under_the_after_policy(owner, face_clip, voice, media_dir):
    from lipsync_site.media.services import store_evidence

    release = media_dir / "release.pdf"
    release.write_bytes(b"%PDF-1.4\n%%EOF\n")
    evidence = store_evidence(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("release.pdf", release.read_bytes())
    )
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
    job = services.create_job(
        owner=owner,
        workspace=workspace_of(owner),
        inputs=services.JobInputs(shape="video_audio", route_id="local-draft", source_video=video, voice=audio),
        consent=services.Consent(
            likeness_consent=True,
            voice_provenance="own",
            person_name="A Senator",
            public_figure=True,
            evidence=evidence,
        ),
    )
    assert job.status == Status.AWAITING_REVIEW


def test_a_moderator_clears_a_queue_of_ten_quickly(moderator_client, owner, face_clip, media_dir, settings):
    settings.CONSENT_REVIEW_POLICY = "before"
    jobs = [
        create_local_job(
            owner, face_clip, mediafactory.make_audio(media_dir / f"v{i}.wav", seconds=1.5, freq=180 + 20 * i)
        )
        for i in range(10)
    ]
    queue = reverse("admin:consent_attestation_queue")
    for index, job in enumerate(jobs):
        html = moderator_client.get(queue).content.decode()
        assert f'data-attestation="{job.attestation_id}"' in html.split('class="queue-item"')[1]  # oldest first
        outcome = {"outcome": "reject", "reason": "No release."} if index % 3 == 0 else {"outcome": "approve"}
        assert moderator_client.post(decide_url(job), outcome).status_code == 302
    assert "queue-empty" in moderator_client.get(queue).content.decode()
    statuses = [Job.objects.get(pk=job.pk).status for job in jobs]
    assert statuses.count(Status.REJECTED) == 4 and statuses.count(Status.QUEUED) == 6


def test_moderators_find_the_queue_in_the_site_header(moderator_client, owner_client):
    queue = reverse("admin:consent_attestation_queue")
    # Moderators are site staff, usually in no workspace: where they land still links the queue.
    landing = moderator_client.get(reverse("jobs:list"), follow=True).content.decode()
    assert f'href="{queue}"' in landing and 'id="moderation-queue-link"' in landing
    assert f'href="{queue}"' not in owner_client.get(reverse("jobs:list")).content.decode()


def test_the_queue_says_which_workspace_asks(moderator_client, owner, face_clip, voice):
    job = create_local_job(owner, face_clip, voice)
    html = moderator_client.get(reverse("admin:consent_attestation_queue")).content.decode()
    assert f'class="queue-workspace">{escape(job.workspace.name)}<' in html
