"""Telling the owner a job has finished: a job that fails silently is a top complaint of
lip-sync users. Sent once per ending, whatever the queue redelivers."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lipsync_site.credits.models import Hold
from lipsync_site.jobs.models import Job, Status

logger = logging.getLogger(__name__)

SUBJECTS = {
    Status.SUCCEEDED: _("Your lip-synced video is ready"),
    Status.FAILED: _("Your lip-sync job failed; your credits were returned"),
    Status.CANCELLED: _("Your lip-sync job was cancelled"),
    Status.REJECTED: _("Your lip-sync job was not approved"),
    Status.REVOKED: _("Your lip-synced video was withdrawn"),
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
    # In the owner's language, whoever's action (a moderator's, a worker's) ended the job.
    with translation.override(job.owner.preferred_language):
        subject, body = str(SUBJECTS[job.status]), _message(job, link)
    try:
        send_mail(subject, body, None, [job.owner.email])
    except OSError:
        logger.exception("Could not e-mail the owner of job %s", job.pk)
        return False
    return True


def _message(job: Job, link: str) -> str:
    lines = [
        gettext("%(title)s: %(state)s.")
        % {"title": job.title or gettext("Your job"), "state": str(job.get_status_display()).lower()}
    ]
    if job.status == Status.SUCCEEDED:
        lines.append(gettext("%(credits)d credits were charged.") % {"credits": job.charged_credits or 0})
        if job.mouth_moving is False:
            lines.append(gettext("Our check could not see the mouth move with the voice: watch it before you use it."))
    elif job.error_message:
        lines.append(job.error_message_display)
    if job.status == Status.REVOKED:
        refunded = job.hold.status == Hold.Status.REFUNDED
        lines.append(
            gettext("Its download links no longer work.")
            + " "
            + (
                gettext("The %(credits)d credits it cost were refunded.")
                if refunded
                else gettext("The %(credits)d credits it cost stay charged: the provider had already made it.")
            )
            % {"credits": job.charged_credits or 0}
        )
    lines.append(gettext("See it here (sign in first): %(link)s") % {"link": link})
    return "\n\n".join(lines)
