"""Rejecting consent after the video was delivered: the job becomes "Revoked" everywhere,
its credits stay charged unless the moderator refunds them, the queue says exactly that
before the click, and the owner is e-mailed the reason."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.jobs.models import EventKind, Status
from lipsync_site.jobs.workflow.settle import settle
from tests.factories import make_job, workspace_of
from tests.moderation.conftest import create_local_job, decide_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(owner, face_clip, voice, sync_tasks, django_capture_on_commit_callbacks):
    owner.email = "owner@example.com"
    owner.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        job = create_local_job(owner, face_clip, voice)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    mail.outbox.clear()
    return job


def reject(moderator_client, job, captured, **extra):
    with captured(execute=True):
        moderator_client.post(decide_url(job), {"outcome": "reject", "reason": "The actor withdrew.", **extra})
    job.refresh_from_db()
    return job


def test_the_queue_says_what_a_rejection_will_do_before_the_click(moderator_client, delivered):
    html = moderator_client.get(reverse("admin:consent_attestation_queue")).content.decode()
    text = re.sub(r"\s+", " ", re.search(r'class="reject-consequences"[^>]*>(.*?)</p>', html, re.S).group(1))
    assert f"revoke 1 delivered job: the owner loses the download and {delivered.charged_credits} credits" in text
    assert "unless you tick refund" in text
    assert f'id="refund-{delivered.attestation_id}"' in html


def test_a_delivered_job_is_revoked_and_stays_charged(
    moderator_client, owner, owner_client, delivered, django_capture_on_commit_callbacks
):
    balance = CreditAccount.objects.get(workspace=workspace_of(owner)).balance
    job = reject(moderator_client, delivered, django_capture_on_commit_callbacks)
    assert job.status == Status.REVOKED and job.hold.status == Hold.Status.CAPTURED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == balance
    page = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert "Revoked" in page and "stay charged" in page and 'id="download-link"' not in page
    history = owner_client.get(reverse("jobs:list")).content.decode()
    assert "Revoked" in history and f"{job.charged_credits} charged" in history
    [message] = mail.outbox
    assert message.subject == "Your lip-synced video was withdrawn"
    assert "The actor withdrew." in message.body and "stay charged" in message.body


def test_a_refund_gives_the_charge_back(
    moderator_client, owner, owner_client, delivered, django_capture_on_commit_callbacks
):
    balance = CreditAccount.objects.get(workspace=workspace_of(owner)).balance
    job = reject(moderator_client, delivered, django_capture_on_commit_callbacks, refund="on")
    assert job.status == Status.REVOKED and job.hold.status == Hold.Status.REFUNDED
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == balance + job.charged_credits
    assert LedgerEntry.objects.filter(hold=job.hold, kind=LedgerEntry.Kind.REFUND, amount=job.charged_credits).exists()
    history = owner_client.get(reverse("jobs:list")).content.decode()
    assert f"{job.charged_credits} refunded" in history
    assert "were refunded" in mail.outbox[0].body


def test_history_shows_released_credits_for_jobs_that_did_not_run(owner_client, owner, face_clip, voice):
    job = create_local_job(owner, face_clip, voice)
    owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    history = owner_client.get(reverse("jobs:list")).content.decode()
    assert f"{job.estimated_credits} released" in history and "held" not in history


def test_the_ledger_calls_a_partial_capture_a_charge_and_a_release(owner_client, owner):
    job = make_job(owner, status=Status.COLLECTING)  # 25 held
    settle(job, to=Status.SUCCEEDED, why="done", kind=EventKind.COLLECT_SUCCEEDED, charge=10)
    html = owner_client.get(reverse("credits:page")).content.decode()
    assert "Charged 10, 15 of the hold released" in html and "Capture" not in html
