"""The only way a job ends.

``settle`` moves a job into a terminal state and settles its credit hold in the same
transaction: capture for a delivery, release for a failure, cancellation or rejection,
refund (or not) for a delivery withdrawn. It frees the owner's running slot and tells the
owner, both after commit. It is idempotent: a job that already ended is left alone and the
answer says so, so a redelivered task or a racing sweep can call it without care.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from lipsync_site.credits.services import capture_hold, refund_hold, release_hold
from lipsync_site.jobs.models import TERMINAL, Job, Status, TransitionRefused
from lipsync_site.jobs.signals import job_settled
from lipsync_site.jobs.workflow.leases import RELEASED, Lease
from lipsync_site.jobs.workflow.queue import Task, enqueue_after_commit, slot_freed

logger = logging.getLogger(__name__)

# Terminal states the owner hears about by e-mail (see jobs.notifications).
NOTIFIED = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.REJECTED, Status.REVOKED})


# The ledger line of each settlement, unless the caller names what was bought.
_RECEIPTS = {
    Status.SUCCEEDED: "{why}",
    Status.FAILED: "Job failed: {why}",
    Status.CANCELLED: "Job cancelled",
    Status.REJECTED: "Consent rejected",
    Status.REVOKED: "Refund of a revoked delivery: {why}",
}


@dataclass(frozen=True)
class Settlement:
    """What ``settle`` did: ``settled`` is True only for the call that ended the job."""

    settled: bool
    status: str
    note: str

    def __bool__(self) -> bool:
        return self.settled


def settle(
    job: Job,
    *,
    to: str,
    why: str,
    kind: str,
    actor: str = "system",
    charge: int | None = None,
    refund: bool = False,
    error: str | None = None,
    receipt: str = "",
    payload: dict | None = None,
    allowed_from=None,
    lease: Lease | None = None,
    lease_expired_before=None,
    **fields,
) -> Settlement:
    """End ``job`` in state ``to`` and settle its hold, in one transaction.

    - ``succeeded`` captures ``charge`` credits (required; never more than the hold);
    - ``failed``, ``cancelled`` and ``rejected`` release the whole hold;
    - ``revoked`` (from succeeded only) keeps the charge unless ``refund``.

    ``why`` is the event's message; the owner sees ``error`` (for ``failed`` it defaults to
    ``why``); ``receipt`` is the ledger line (what was bought, for a capture).
    ``allowed_from`` narrows the states the job may end from; ``lease`` requires that the
    caller still holds the job (and ``lease_expired_before``, that the lease ran out before
    then: the sweep taking over a dead worker's job). Extra ``fields`` are written by the
    same guarded update (the output, the check's figures).
    """
    if to not in TERMINAL:
        raise ValueError(f"{to} is not a terminal state")
    if (to == Status.SUCCEEDED) != (charge is not None):
        raise ValueError("a delivery is settled with a charge, and only a delivery")
    if error is None and to == Status.FAILED:
        error = why
    if error:
        fields["error_message"] = error
    if charge is not None:
        fields["charged_credits"] = charge
    guard = Q()
    if lease is not None:
        guard &= lease.holds()
    if lease_expired_before is not None:
        guard &= Q(lease_expires_at__lt=lease_expired_before)
    with transaction.atomic():
        try:
            job.finish(
                to,
                kind=kind,
                actor=actor,
                message=why,
                payload=payload,
                allowed_from=allowed_from,
                guard=guard,
                **RELEASED,
                **fields,
            )
        except TransitionRefused:
            current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            note = f"not settled: the job is {current}" + (", and the lease moved on" if lease else "")
            logger.debug("job %s %s (wanted %s)", job.pk, note, to)
            return Settlement(False, current, note)
        receipt = (receipt or _RECEIPTS[to].format(why=why))[:300]
        if to == Status.SUCCEEDED:
            capture_hold(hold_id=job.hold_id, amount=charge, reason=receipt)
        elif to == Status.REVOKED:
            if refund:
                refund_hold(hold_id=job.hold_id, reason=receipt)
        else:
            release_hold(hold_id=job.hold_id, reason=receipt)
        slot_freed(job.owner_id)
        if to in NOTIFIED:
            enqueue_after_commit(Task.NOTIFY_OWNER, job.pk)
        # Webhooks (the API app) record their deliveries in this transaction and send them after commit.
        job_settled.send(sender=Job, job=job, status=to)
    return Settlement(True, to, f"{to} now")
