"""What the jobs' pages show: reads only, no state changes."""

from __future__ import annotations

from lipsync_site.credits.selectors import balance_summary
from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.quote import BATCH_SHAPES, quote
from lipsync_site.jobs.workflow.policy import CANCELLABLE_STATES
from lipsync_site.media import links
from lipsync_site.media.intake import Intake
from lipsync_site.media.models import Asset
from lipsync_site.media.preflight import run_checks
from lipsync_site.media.selectors import speaker_faces
from lipsync_site.providers.routes import get_route


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
        "can_cancel": job.status in CANCELLABLE_STATES,
    }
    if decision is not None and decision.outcome == "rejected":
        context["rejection"] = decision.reason
    if job.status == Status.SUCCEEDED and job.output_id and context["rejection"] is None:
        context["player_url"] = links.user_url(job.output, links.Purpose.VIEW, user=user)
        context["download_url"] = links.user_url(job.output, links.Purpose.DOWNLOAD, user=user)
        if job.poster_id:
            context["poster_url"] = links.user_url(job.poster, links.Purpose.VIEW, user=user)
    return context


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def new_job_context(user, form, intake: Intake) -> dict:
    """Everything the new-job page shows: stored media, preflight checks, routes, cost."""
    data = form.data
    video = intake.video if form.wants_video else None
    portrait = intake.portrait if form.wants_portrait else None
    voices = intake.voices if form.wants_voice else []
    if form.shape not in BATCH_SHAPES:
        voices = voices[:1]
    script = (data.get("script") or "").strip()
    checks = run_checks(
        video=video,
        portrait=portrait,
        voices=voices,
        confirmed_no_face=bool(data.get("confirm_no_face")),
        mismatch_mode=data.get("mismatch_mode") or "",
    )
    picture = video or portrait
    # Two faces or more: the user says who speaks, on the poster (numbered outlines).
    speakers = speaker_faces(picture) if picture is not None else []
    if len(speakers) < 2:
        speakers = []
    speaker_poster = (picture if picture.kind == Asset.Kind.IMAGE else picture.poster) if speakers else None
    ready = bool((video or not form.wants_video) and (portrait or not form.wants_portrait))
    ready = ready and bool(voices or not form.wants_voice or form.voice_optional)
    ready = ready and bool(script or not form.wants_script)
    balance = balance_summary(user)
    offer = quote(
        shape=form.shape,
        offered=form.routes,
        ready=ready,
        video=video,
        portrait=portrait,
        voices=voices,
        text=script,
        mismatch_mode=data.get("mismatch_mode") or "loop",
        options={"duration": _float(data.get("duration"))},
        wanted_route=data.get("route") or "",
        budget=balance["available"],
    )
    blocks = [check for check in checks if check.blocks]
    return {
        "form": form,
        "intake": intake,
        "video": video,
        "portrait": portrait,
        "voices": voices,
        "stored": {
            "video": [video] if video else [],
            "portrait": [portrait] if portrait else [],
            "voices": voices,
            "evidence": [intake.evidence] if intake.evidence else [],
        },
        "checks": checks,
        "blocks": blocks,
        "confirmable": any(check.confirmable for check in blocks) or bool(data.get("confirm_no_face")),
        "mismatch": any(check.code == "mismatch" and check.level != "pass" for check in checks),
        "offers": offer.offers,
        "suggested": offer.suggested,
        "suggestion": offer.suggestion,
        "chosen": offer.chosen,
        "no_route": offer.no_route,
        "ready": ready,
        "can_start": ready and offer.chosen is not None and not blocks,
        "balance": balance,
        # For the speaker choice: the faces (index; x, y, width, height in the poster's
        # pixels; percent for CSS outlines) and the poster they are drawn on.
        "speakers": speakers,
        "speaker_poster_url": (
            links.user_url(speaker_poster, links.Purpose.VIEW, user=user) if speaker_poster is not None else ""
        ),
        "speaker_chosen": _int(data.get("speaker")),
    }


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
