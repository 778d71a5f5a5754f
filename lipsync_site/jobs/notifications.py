"""Telling the owner a job has finished: a job that fails silently is a top complaint of
lip-sync users. Sent once per ending, whatever the queue redelivers."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import Job, Status

logger = logging.getLogger(__name__)

SUBJECTS = {
    Status.SUCCEEDED: "Your lip-synced video is ready",
    Status.FAILED: "Your lip-sync job failed; your credits were returned",
    Status.CANCELLED: "Your lip-sync job was cancelled",
    Status.REJECTED: "Your lip-sync job was not approved",
    Status.REVOKED: "Your lip-synced video was withdrawn",
}


def notify_owner(job_id) -> bool:
    """E-mail the owner about a finished job. True if this call sent it."""
    job = Job.objects.select_related("owner", "hold").get(pk=job_id)
    if job.status not in SUBJECTS or not job.owner.email:
        return False
    # Claim the notification first: a redelivered task finds it taken and sends nothing. A
    # job ends twice only when a delivery is revoked; that later end is told again.
    unsent = Q(notified_at__isnull=True) | Q(notified_at__lt=F("finished_at"))
    if not Job.objects.filter(unsent, pk=job.pk).update(notified_at=timezone.now()):
        return False
    link = settings.PUBLIC_BASE_URL + reverse("jobs:detail", args=[job.pk])
    lines = [f"{job.title or 'Your job'}: {job.get_status_display().lower()}."]
    if job.status == Status.SUCCEEDED:
        lines.append(f"{job.charged_credits} credits were charged.")
        if job.mouth_moving is False:
            lines.append("Our check could not see the mouth move with the voice: watch it before you use it.")
    elif job.error_message:
        lines.append(job.error_message)
    if job.status == Status.REVOKED:
        refunded = job.hold.status == Hold.Status.REFUNDED
        lines.append(
            "Its download links no longer work. "
            + (
                f"The {job.charged_credits} credits it cost were refunded."
                if refunded
                else f"The {job.charged_credits} credits it cost stay charged: the provider had already made it."
            )
        )
    lines.append(f"See it here (sign in first): {link}")
    try:
        send_mail(SUBJECTS[job.status], "\n\n".join(lines), None, [job.owner.email])
    except OSError:
        logger.exception("Could not e-mail the owner of job %s", job.pk)
        return False
    return True
