"""``settle``: every terminal state settles the job's credit hold exactly once, in the
transaction that ends the job; a second call changes nothing and says so."""

from __future__ import annotations

import pytest

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.jobs.models import EventKind, Status
from lipsync_site.jobs.workflow.leases import Lease
from lipsync_site.jobs.workflow.settle import settle
from tests.factories import make_job, workspace_of

pytestmark = pytest.mark.django_db


def balance(owner) -> int:
    return CreditAccount.objects.get(workspace=workspace_of(owner)).balance


def test_a_delivery_captures_the_charge_and_returns_the_rest(owner):
    job = make_job(owner, status=Status.COLLECTING)  # 25 credits held
    outcome = settle(job, to=Status.SUCCEEDED, why="done", kind=EventKind.COLLECT_SUCCEEDED, charge=10)
    assert outcome.settled and outcome.status == Status.SUCCEEDED
    job.refresh_from_db()
    assert job.charged_credits == 10 and job.hold.status == Hold.Status.CAPTURED
    assert balance(owner) == 1000 - 10
    assert job.lease_owner == "" and job.finished_at is not None


@pytest.mark.parametrize("target", [Status.FAILED, Status.CANCELLED])
def test_failure_and_cancellation_release_the_whole_hold(owner, target):
    job = make_job(owner)
    assert settle(job, to=target, why="stopped", kind=EventKind.NOTE)
    job.refresh_from_db()
    assert job.hold.status == Hold.Status.RELEASED and balance(owner) == 1000


def test_a_failure_tells_the_owner_why(owner):
    job = make_job(owner)
    settle(job, to=Status.FAILED, why="The provider refused the voice.", kind=EventKind.RUN_FAILED)
    job.refresh_from_db()
    assert job.error_message == "The provider refused the voice."
    entry = LedgerEntry.objects.get(hold=job.hold, kind=LedgerEntry.Kind.RELEASE)
    assert entry.reason == "Job failed: The provider refused the voice."


def test_a_second_settlement_is_a_no_op_that_says_so(owner):
    job = make_job(owner)
    assert settle(job, to=Status.FAILED, why="first", kind=EventKind.NOTE)
    entries = LedgerEntry.objects.count()
    again = settle(job, to=Status.CANCELLED, why="second", kind=EventKind.NOTE)
    assert not again.settled and again.status == Status.FAILED
    assert "already" in again.note or "is failed" in again.note
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.error_message == "first"
    assert LedgerEntry.objects.count() == entries and balance(owner) == 1000


def test_a_lost_lease_settles_nothing(owner):
    job = make_job(owner, status=Status.COLLECTING)
    mine, theirs = Lease(), Lease()
    assert theirs.claim(type(job).objects.filter(pk=job.pk))
    outcome = settle(job, to=Status.FAILED, why="late writer", kind=EventKind.NOTE, lease=mine)
    assert not outcome
    job.refresh_from_db()
    assert job.status == Status.COLLECTING and job.hold.status == Hold.Status.OPEN
    assert settle(job, to=Status.FAILED, why="holder", kind=EventKind.NOTE, lease=theirs)


def test_a_delivery_needs_a_charge_and_only_a_delivery_has_one(owner):
    job = make_job(owner, status=Status.COLLECTING)
    with pytest.raises(ValueError):
        settle(job, to=Status.SUCCEEDED, why="x", kind=EventKind.NOTE)
    with pytest.raises(ValueError):
        settle(job, to=Status.FAILED, why="x", kind=EventKind.NOTE, charge=3)
    with pytest.raises(ValueError, match="not a terminal"):
        settle(job, to=Status.RUNNING, why="x", kind=EventKind.NOTE)
    settle(job, to=Status.FAILED, why="over", kind=EventKind.NOTE)


@pytest.mark.parametrize(("refund", "charged_after"), [(False, 10), (True, 0)])
def test_a_revoked_delivery_stays_charged_unless_refunded(owner, refund, charged_after):
    job = make_job(owner, status=Status.COLLECTING)
    settle(job, to=Status.SUCCEEDED, why="done", kind=EventKind.NOTE, charge=10)
    outcome = settle(job, to=Status.REVOKED, why="consent withdrawn", kind=EventKind.REVIEW_REVOKED, refund=refund)
    assert outcome
    job.refresh_from_db()
    assert job.status == Status.REVOKED
    assert balance(owner) == 1000 - charged_after
    assert job.hold.status == (Hold.Status.REFUNDED if refund else Hold.Status.CAPTURED)
    assert LedgerEntry.objects.filter(hold=job.hold, kind=LedgerEntry.Kind.REFUND).count() == int(refund)


def test_the_owner_is_told_once_after_commit(owner, django_capture_on_commit_callbacks):
    job = make_job(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        settle(job, to=Status.FAILED, why="x", kind=EventKind.NOTE)
        settle(job, to=Status.FAILED, why="x", kind=EventKind.NOTE)
    # One slot freed and one notification, from the one call that settled.
    assert len(callbacks) == 2
