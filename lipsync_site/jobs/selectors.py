from lipsync_site.jobs.models import Job, Status
from lipsync_site.media import links
from lipsync_site.providers.catalog import get_route


def job_page_context(job: Job, user) -> dict:
    """Everything the job page and its polled partial show (polled every 2 s: keep it to
    the job row and one decision lookup)."""
    decision = job.attestation.latest_decision
    context = {
        "job": job,
        "route": get_route(job.route_id),
        "progress_percent": round(job.progress * 100),
        "review_state": decision.outcome if decision else "pending",
        "rejection": None,
        "can_cancel": job.status in {Status.AWAITING_REVIEW, Status.QUEUED, Status.PROVIDER_QUEUED},
    }
    if decision is not None and decision.outcome == "rejected":
        context["rejection"] = decision.reason
    if job.status == Status.SUCCEEDED and job.output_id and context["rejection"] is None:
        context["player_url"] = links.user_url(job.output, links.Purpose.VIEW, user=user)
        context["download_url"] = links.user_url(job.output, links.Purpose.DOWNLOAD, user=user)
        if job.poster_id:
            context["poster_url"] = links.user_url(job.poster, links.Purpose.VIEW, user=user)
        context["drift_noticeable"] = abs(job.duration_drift_seconds or 0) >= 0.1
    return context
