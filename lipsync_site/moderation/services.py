"""A moderator's decision and everything it sets in motion, in one transaction."""

from django.db import transaction

from lipsync_site.consent.models import Attestation, Decision
from lipsync_site.consent.services import decide
from lipsync_site.jobs.models import Job
from lipsync_site.jobs.services import release_for_review, stop_for_rejection
from lipsync_site.media.services import revoke_links


@transaction.atomic
def approve_attestation(*, attestation: Attestation, moderator, reason: str = "") -> Decision:
    """Approve consent: jobs waiting for review join the queue."""
    decision = decide(attestation=attestation, outcome=Decision.Outcome.APPROVED, moderator=moderator, reason=reason)
    for job in Job.objects.filter(attestation=attestation, status="awaiting_review"):
        release_for_review(job, actor=f"moderator:{moderator.pk}")
    return decision


@transaction.atomic
def reject_attestation(*, attestation: Attestation, moderator, reason: str) -> Decision:
    """Reject consent, all in one transaction: jobs not yet finished are stopped (waiting
    ones rejected, running ones cancelled), their holds released, and every signed link
    to their media, posters and outputs stops working, including the originals of
    inputs we prepared and the evidence file. The owner sees the reason on the job page.
    """
    decision = decide(attestation=attestation, outcome=Decision.Outcome.REJECTED, moderator=moderator, reason=reason)
    jobs = list(
        Job.objects.select_for_update(of=("self",))
        .select_related("source_video", "portrait", "voice", "output", "poster")
        .filter(attestation=attestation)
    )
    for job in jobs:
        stop_for_rejection(job, reason=reason, actor=f"moderator:{moderator.pk}")
    originals = [
        asset.derived_from_id
        for job in jobs
        for asset in job.input_assets
        if asset is not None and asset.derived_from_id is not None
    ]
    revoke_links(asset_ids=[*originals, *([attestation.evidence_id] if attestation.evidence_id else [])])
    return decision
