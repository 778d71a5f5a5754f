"""The owner hears about a finished job once, by e-mail, whatever the queue redelivers."""

import pytest
from django.core import mail
from django.urls import reverse

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.notifications import notify_owner
from tests.jobs.test_end_to_end import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_with_email(owner):
    owner.email = "owner@example.com"
    owner.save(update_fields=["email"])
    return owner


def test_owner_is_told_when_the_video_is_ready(
    owner_client, owner_with_email, clip, voice, sync_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    job = Job.objects.get(owner=owner_with_email)
    assert job.status == Status.SUCCEEDED
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@example.com"]
    assert message.subject == "Your lip-synced video is ready"
    assert reverse("jobs:detail", args=[job.pk]) in message.body
    assert f"{job.charged_credits} credits were charged" in message.body
    job.refresh_from_db()
    assert job.notified_at is not None


def test_a_redelivered_notification_sends_nothing(owner_client, owner_with_email, clip, voice):
    owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    job = Job.objects.get(owner=owner_with_email)
    owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert notify_owner(job.pk) is True
    assert notify_owner(job.pk) is False
    assert [m.subject for m in mail.outbox] == ["Your lip-sync job was cancelled"]


def test_no_mail_without_an_address_or_before_the_end(owner_client, owner, clip, voice):
    type(owner).objects.filter(pk=owner.pk).update(email="")
    owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    job = Job.objects.get(owner=owner)
    assert notify_owner(job.pk) is False  # still queued
    owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert notify_owner(job.pk) is False  # finished, but the owner gave no address
    assert mail.outbox == []
