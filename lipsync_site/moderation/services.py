"""A moderator's decision and everything it sets in motion, in one transaction."""

from django.db import transaction

from lipsync_site.consent.models import Attestation, Decision
from lipsync_site.consent.services import decide
from lipsync_site.jobs.models import Job
from lipsync_site.jobs.services import release_for_review, stop_for_rejection


@transaction.atomic
def approve_attestation(*, attestation: Attestation, moderator, reason: str = "") -> Decision:
    decision = decide(attestation=attestation, outcome=Decision.Outcome.APPROVED, moderator=moderator, reason=reason)
    for job in Job.objects.filter(attestation=attestation, status="awaiting_review"):
        release_for_review(job, actor=f"moderator:{moderator.pk}")
    return decision


@transaction.atomic
def reject_attestation(*, attestation: Attestation, moderator, reason: str) -> Decision:
    """Reject consent: pending jobs cancelled, holds released, links revoked."""
    decision = decide(attestation=attestation, outcome=Decision.Outcome.REJECTED, moderator=moderator, reason=reason)
    for job in Job.objects.select_for_update().filter(attestation=attestation):
        stop_for_rejection(job, reason=reason, actor=f"moderator:{moderator.pk}")
    return decision
