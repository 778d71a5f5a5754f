"""Judging a submitted new-job form and creating its job(s): the one place both the web
form (``jobs.views.job_new``) and the token API (``api``) start work, so they refuse the
same things with the same words.

Every refusal is added to the form as a ``ValidationError`` with a stable ``code`` (the
API's error codes, see ``REFUSALS``) and the message the web page shows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from lipsync_site.consent.services import ConsentMissing
from lipsync_site.credits.services import CreditsRefused, InsufficientCredits, SpendingCapReached
from lipsync_site.jobs import services
from lipsync_site.jobs.models import Job
from lipsync_site.media.probe import MediaRejected

# The codes a refused submission can carry (beyond Django's field codes such as "required").
REFUSALS = {
    "no_route": "No route is available for this kind of job, or none fits these inputs.",
    "media_missing": "The media this kind of job needs is missing.",
    "preflight_blocked": "A preflight check stops these inputs.",
    "speaker_needed": "Several faces are in the picture: say which one speaks.",
    "route_unfit": "The chosen route cannot take these inputs.",
    "insufficient_credits": "The workspace has too few credits.",
    "spending_cap_reached": "The member's monthly cap leaves too little.",
    "credits_refused": "The ledger refused the hold.",
    "media_rejected": "The media was refused.",
    "consent_missing": "The consent answers are incomplete.",
}


def _refuse(form, field, message: str, code: str) -> None:
    form.add_error(field, ValidationError(message, code=code))


def start_jobs(form, context: dict, *, owner, workspace, ip_address: str | None, user_agent: str) -> list[Job]:
    """Create the job(s) of a checked form if everything is in order (``context`` is
    ``selectors.new_job_context`` for it); else add the reasons to the form and return []."""
    if context["no_route"]:
        _refuse(form, None, context["no_route"], "no_route")
    if not context["ready"]:
        _refuse(form, None, "Add the media this kind of job needs.", "media_missing")
    for check in context["blocks"]:
        _refuse(form, None, f"{check.subject}: {check.reason}", "preflight_blocked")
    if context["speakers"] and not context["speaker_chosen"]:
        asked = form.cleaned_data.get("speaker")
        _refuse(
            form,
            None,
            f"There is no face {asked} in the picture; choose one of the numbered faces."
            if asked
            else "Several people are in the picture: click the face of the one who speaks.",
            "speaker_needed",
        )
    chosen = context["chosen"]
    wanted = form.data.get("route")
    if chosen is not None and wanted and wanted != chosen.route.id:
        _refuse(form, "route", "That route cannot take these inputs; see the reasons next to it.", "route_unfit")
    balance = context["balance"]
    if chosen is not None and chosen.credits > balance["budget"]:
        jobs = f"These {len(chosen.seconds)} jobs need" if len(chosen.seconds) > 1 else "This job needs"
        if chosen.credits > balance["available"]:
            _refuse(
                form,
                None,
                f"{jobs} {chosen.credits} credits and the workspace has {balance['available']}.",
                "insufficient_credits",
            )
        else:
            _refuse(
                form,
                None,
                f"{jobs} {chosen.credits} credits and your monthly cap leaves you {balance['cap_left']}; "
                "ask an owner of the workspace to raise it.",
                "spending_cap_reached",
            )
    if form.voice == "optional" and context["voices"] and not form.cleaned_data.get("voice_provenance"):
        _refuse(
            form,
            "voice_provenance",
            "Tell us whose voice is in your recording and what gives you the right.",
            "consent_missing",
        )
    if form.errors or chosen is None:
        return []
    voices = context["voices"] or [None]
    consents = form.consents(
        len(voices), evidence=context["intake"].evidence, ip_address=ip_address, user_agent=user_agent
    )
    inputs = form.job_inputs(route_id=chosen.route.id, video=context["video"], portrait=context["portrait"])
    try:
        return services.create_jobs_batch(
            owner=owner, workspace=workspace, inputs=inputs, voices=voices, consents=consents
        )
    except MediaRejected as exc:
        _refuse(form, None, exc.message, "media_rejected")
    except InsufficientCredits as exc:
        _refuse(
            form,
            None,
            f"This needs {exc.needed} credits and the workspace has {exc.available} available.",
            "insufficient_credits",
        )
    except SpendingCapReached as exc:
        _refuse(form, None, f"This needs {exc.needed} credits: {exc}.", "spending_cap_reached")
    except CreditsRefused as exc:
        _refuse(form, None, str(exc).capitalize() + ".", "credits_refused")
    except ConsentMissing as exc:
        _refuse(form, None, f"Consent is incomplete: {exc}.", "consent_missing")
    return []
