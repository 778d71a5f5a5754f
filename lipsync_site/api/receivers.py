"""Webhook events from the apps below: recorded in the transaction that made the change,
sent after it commits."""

from __future__ import annotations

from django.dispatch import receiver

from lipsync_site.api import schemas, services
from lipsync_site.api.models import WebhookEndpoint, WebhookEvent
from lipsync_site.consent.signals import attestation_rejected
from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.signals import job_settled

JOB_EVENTS = {
    Status.SUCCEEDED: WebhookEvent.JOB_SUCCEEDED,
    Status.FAILED: WebhookEvent.JOB_FAILED,
    Status.CANCELLED: WebhookEvent.JOB_CANCELLED,
    Status.REVOKED: WebhookEvent.JOB_REVOKED,
}


@receiver(job_settled, dispatch_uid="api.webhooks.job_settled")
def job_ended(sender, *, job, status, **kwargs):
    event = JOB_EVENTS.get(status)
    if event is None:
        return  # a job stopped by a rejected consent is reported as attestation.rejected
    if not WebhookEndpoint.objects.filter(workspace_id=job.workspace_id, active=True).exists():
        return  # most workspaces have none: one cheap query, no job reloaded
    fresh = Job.objects.select_related("owner").get(pk=job.pk)
    services.announce(
        workspace_id=fresh.workspace_id, event=event, data={"job": schemas.job_out(fresh).model_dump(mode="json")}
    )


@receiver(attestation_rejected, dispatch_uid="api.webhooks.attestation_rejected")
def consent_rejected(sender, *, attestation, reason, job_ids, **kwargs):
    by_workspace: dict[int, list[str]] = {}
    for job_id, workspace_id in job_ids:
        by_workspace.setdefault(workspace_id, []).append(str(job_id))
    for workspace_id, jobs in by_workspace.items():
        services.announce(
            workspace_id=workspace_id,
            event=WebhookEvent.ATTESTATION_REJECTED,
            data={"attestation": str(attestation.pk), "reason": reason, "jobs": jobs},
        )
