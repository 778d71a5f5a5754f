"""The job's state table, every pair: each allowed move happens once with its event row,
each refused one changes nothing. Terminal states are entered only through ``settle``,
which settles the credit hold in the same transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import ALLOWED_FROM, TERMINAL, EventKind, Job, Status, TransitionRefused
from lipsync_site.jobs.workflow.settle import settle
from tests.factories import make_job

pytestmark = pytest.mark.django_db

# How a test reaches each terminal state legally (settle from a state that may end in it).
_REACHED_FROM = {
    Status.SUCCEEDED: (Status.COLLECTING,),
    Status.FAILED: (Status.QUEUED,),
    Status.CANCELLED: (Status.QUEUED,),
    Status.REJECTED: (Status.AWAITING_REVIEW,),
    Status.REVOKED: (Status.COLLECTING, Status.SUCCEEDED),
}


def end_in(job: Job, target: str):
    return settle(
        job,
        to=target,
        why=f"test: {target}",
        kind=EventKind.NOTE,
        **({"charge": 1} if target == Status.SUCCEEDED else {}),
    )


def job_in(owner, status: str) -> Job:
    """A job standing in ``status``, its hold settled as that state requires."""
    if status not in TERMINAL:
        return make_job(owner, status=status)
    start, *steps = _REACHED_FROM[status]
    job = make_job(owner, status=start)
    for step in [*steps, status]:
        assert end_in(job, step), f"could not reach {step}"
    job.refresh_from_db()
    return job


PAIRS = [(source, target) for source in Status for target in Status]


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s.value}->{t.value}" for s, t in PAIRS])
def test_every_move_of_the_state_table(owner, source, target):
    job = job_in(owner, source)
    events = job.events.count()
    allowed = source in ALLOWED_FROM.get(target, ())
    if target in TERMINAL:
        assert bool(end_in(job, target)) is allowed
    elif allowed:
        job.transition(target, kind=EventKind.NOTE, message="test")
    else:
        with pytest.raises(TransitionRefused):
            job.transition(target, kind=EventKind.NOTE, message="test")
    job.refresh_from_db()
    assert job.status == (target if allowed else source)
    assert job.events.count() == events + (1 if allowed else 0)
    if allowed:
        event = job.events.last()
        assert (event.from_status, event.to_status) == (source, target)


def test_terminal_states_are_left_only_for_revocation():
    for target, sources in ALLOWED_FROM.items():
        for source in sources & TERMINAL:
            assert (source, target) == (Status.SUCCEEDED, Status.REVOKED)


def test_transition_refuses_terminal_states_they_belong_to_settle(owner):
    job = make_job(owner)
    with pytest.raises(ValueError, match="settle"):
        job.transition(Status.FAILED, kind=EventKind.NOTE)
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.hold.status == Hold.Status.OPEN


def test_finish_needs_a_terminal_state(owner):
    job = make_job(owner)
    with pytest.raises(ValueError, match="not terminal"), transaction.atomic():
        job.finish(Status.RUNNING, kind=EventKind.NOTE, actor="tests", message="")


@pytest.mark.django_db(transaction=True)
def test_finish_outside_a_transaction_is_refused_so_no_job_ends_unsettled(owner):
    job = make_job(owner)
    with pytest.raises(RuntimeError, match="settles its hold"):
        job.finish(Status.FAILED, kind=EventKind.NOTE, actor="tests", message="")
    job.refresh_from_db()
    assert job.status == Status.QUEUED and job.hold.status == Hold.Status.OPEN
