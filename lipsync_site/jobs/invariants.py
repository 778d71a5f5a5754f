"""The jobs' side of the ledger invariants: a finished job has settled its hold exactly
once (the ledger checks "at most once"), an unfinished one has not settled it yet, a
revoked delivery stays charged unless refunded, and a job never charged more than it held."""

from __future__ import annotations

from django.db.models import F

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import ACTIVE, TERMINAL, Job, Status


def settlement_problems() -> list[str]:
    problems: list[str] = []
    for job_id, status in Job.objects.filter(status__in=list(TERMINAL), hold__status=Hold.Status.OPEN).values_list(
        "id", "status"
    ):
        problems.append(f"job {job_id} is {status} but its hold is still open")
    for job_id, status, hold_status in (
        Job.objects.filter(status__in=list(ACTIVE))
        .exclude(hold__status=Hold.Status.OPEN)
        .values_list("id", "status", "hold__status")
    ):
        problems.append(f"job {job_id} is still {status} but its hold is already {hold_status}")
    for job_id in (
        Job.objects.filter(status=Status.SUCCEEDED)
        .exclude(hold__status=Hold.Status.CAPTURED)
        .values_list("id", flat=True)
    ):
        problems.append(f"job {job_id} succeeded without capturing its hold")
    for job_id in (
        Job.objects.filter(status=Status.REVOKED)
        .exclude(hold__status__in=[Hold.Status.CAPTURED, Hold.Status.REFUNDED])
        .values_list("id", flat=True)
    ):
        problems.append(f"job {job_id} was revoked but its hold was neither captured nor refunded")
    for job_id in (
        Job.objects.filter(status__in=[Status.FAILED, Status.CANCELLED, Status.REJECTED])
        .exclude(hold__status=Hold.Status.RELEASED)
        .values_list("id", flat=True)
    ):
        problems.append(f"job {job_id} did not succeed but its hold was not released")
    for job_id in Job.objects.filter(charged_credits__gt=F("hold__amount")).values_list("id", flat=True):
        problems.append(f"job {job_id} charged more than it held")
    return problems
