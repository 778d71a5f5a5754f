from lipsync_site.credits.selectors import balance_summary
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media import links
from lipsync_site.providers.catalog import get_route


def job_page_context(job: Job, user) -> dict:
    """Everything the job page and its polled partial show."""
    context = {
        "job": job,
        "route": get_route(job.route_id),
        "progress_percent": round(job.progress * 100),
        "balance": balance_summary(user),
        "review_state": job.attestation.review_state,
        "rejection": None,
        "can_cancel": job.status in {Status.AWAITING_REVIEW, Status.QUEUED, Status.PROVIDER_QUEUED},
    }
    decision = job.attestation.latest_decision
    if decision is not None and decision.outcome == "rejected":
        context["rejection"] = decision.reason
    if job.status == Status.SUCCEEDED and job.output_id and context["rejection"] is None:
        context["player_url"] = links.user_url(job.output, links.Purpose.VIEW, user=user)
        context["download_url"] = links.user_url(job.output, links.Purpose.DOWNLOAD, user=user)
        if job.poster_id:
            context["poster_url"] = links.user_url(job.poster, links.Purpose.VIEW, user=user)
        context["drift_noticeable"] = abs(job.duration_drift_seconds or 0) >= 0.1
    return context
