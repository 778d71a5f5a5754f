"""Review: what a moderator's consent decision does to the jobs made under it.

Approval lets jobs waiting for review join the queue. Rejection stops every job of the
attestation wherever it is: a job still waiting is rejected, one in flight is cancelled
(and stopped at the provider), both with their holds released; a job already delivered is
revoked, its credits kept (the provider was paid) unless the moderator refunds them. Every
signed link to the jobs' media and outputs stops working.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum

from lipsync_site.jobs.models import ACTIVE, EventKind, Job, Status, TransitionRefused
from lipsync_site.jobs.workflow.policy import Say
from lipsync_site.jobs.workflow.queue import Task, enqueue_after_commit, mark_enqueued
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.media.services import revoke_links


@dataclass(frozen=True)
class RejectionConsequences:
    """What rejecting an attestation would do, for the moderator to read before the click."""

    waiting: int  # rejected, credits released
    in_flight: int  # cancelled (and stopped at the provider), credits released
    delivered: int  # revoked: links die, credits stay charged unless refunded
    delivered_credits: int  # what the delivered jobs charged (what a refund gives back)

    @property
    def released(self) -> int:
        return self.waiting + self.in_flight


def rejection_consequences(attestation_id) -> RejectionConsequences:
    jobs = Job.objects.filter(attestation_id=attestation_id)
    delivered = jobs.filter(status=Status.SUCCEEDED)
    return RejectionConsequences(
        waiting=jobs.filter(status=Status.AWAITING_REVIEW).count(),
        in_flight=jobs.filter(status__in=list(ACTIVE - {Status.AWAITING_REVIEW})).count(),
        delivered=delivered.count(),
        delivered_credits=delivered.aggregate(total=Sum("charged_credits"))["total"] or 0,
    )


def admit_approved(*, attestation_id, actor: str) -> int:
    """Consent approved: the attestation's jobs waiting for review join the queue."""
    admitted = 0
    for job in Job.objects.filter(attestation_id=attestation_id, status=Status.AWAITING_REVIEW):
        with transaction.atomic():
            try:
                job.transition(
                    Status.QUEUED,
                    kind=EventKind.REVIEW_APPROVED,
                    actor=actor,
                    message="Consent approved by a moderator.",
                )
            except TransitionRefused:
                continue
            mark_enqueued(job.pk, Task.SUBMIT, status=Status.QUEUED)
            admitted += 1
    return admitted


def stop_rejected(*, attestation_id, reason: str, actor: str, refund: bool = False) -> int:
    """Consent rejected: stop, cancel or revoke every job of the attestation (see the module
    docstring) and revoke every link to their media. Returns how many jobs changed."""
    changed = 0
    jobs = list(
        Job.objects.select_related("source_video", "portrait", "voice", "output", "poster").filter(
            attestation_id=attestation_id
        )
    )
    message = Say.consent_rejected(reason)
    for job in jobs:
        job.refresh_from_db()
        if job.status == Status.SUCCEEDED:
            outcome = settle(
                job,
                to=Status.REVOKED,
                why=message + (" The credits were refunded." if refund else " The credits stay charged."),
                kind=EventKind.REVIEW_REVOKED,
                actor=actor,
                refund=refund,
                error=message,
            )
        elif job.is_terminal:
            job.log(message, kind=EventKind.REVIEW_REJECTED, actor=actor)
            continue
        else:
            waiting = job.status == Status.AWAITING_REVIEW
            outcome = settle(
                job,
                to=Status.REJECTED if waiting else Status.CANCELLED,
                why=message,
                kind=EventKind.REVIEW_REJECTED,
                actor=actor,
                error=message,
            )
            if outcome and job.provider_request_id:
                enqueue_after_commit(Task.CANCEL_AT_PROVIDER, job.pk)
        changed += bool(outcome)
    assets = {asset for job in jobs for asset in (*job.input_assets, job.output, job.poster) if asset is not None}
    # The originals of inputs we prepared (a trimmed voice) are the same person's media.
    originals = {asset.derived_from_id for asset in assets if asset.derived_from_id}
    revoke_links(asset_ids=[*(asset.pk for asset in assets), *originals])
    return changed
