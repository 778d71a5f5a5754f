"""Judging a submitted new-job form and creating its job(s): the one place both the web
form (``jobs.views.job_new``) and the token API (``api``) start work, so they refuse the
same things with the same words.

Every refusal is added to the form as a ``ValidationError`` with a stable ``code`` (the
API's error codes, see ``REFUSALS``) and the message the web page shows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

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
        _refuse(form, None, gettext("Add the media this kind of job needs."), "media_missing")
    for check in context["blocks"]:
        _refuse(
            form,
            None,
            gettext("%(subject)s: %(reason)s") % {"subject": check.subject, "reason": check.reason},
            "preflight_blocked",
        )
    if context["speakers"] and not context["speaker_chosen"]:
        asked = form.cleaned_data.get("speaker")
        _refuse(
            form,
            None,
            gettext("There is no face %(number)s in the picture; choose one of the numbered faces.") % {"number": asked}
            if asked
            else gettext("Several people are in the picture: click the face of the one who speaks."),
            "speaker_needed",
        )
    chosen = context["chosen"]
    wanted = form.data.get("route")
    if chosen is not None and wanted and wanted != chosen.route.id:
        _refuse(
            form, "route", gettext("That route cannot take these inputs; see the reasons next to it."), "route_unfit"
        )
    balance = context["balance"]
    if chosen is not None and chosen.credits > balance["budget"]:
        numbers = {
            "count": len(chosen.seconds),
            "credits": chosen.credits,
            "available": balance["available"],
            "left": balance["cap_left"],
        }
        several = len(chosen.seconds) > 1
        if chosen.credits > balance["available"]:
            message = (
                gettext("These %(count)d jobs need %(credits)d credits and the workspace has %(available)d.")
                if several
                else gettext("This job needs %(credits)d credits and the workspace has %(available)d.")
            )
            _refuse(form, None, message % numbers, "insufficient_credits")
        else:
            message = (
                gettext(
                    "These %(count)d jobs need %(credits)d credits and your monthly cap leaves you %(left)d; "
                    "ask an owner of the workspace to raise it."
                )
                if several
                else gettext(
                    "This job needs %(credits)d credits and your monthly cap leaves you %(left)d; "
                    "ask an owner of the workspace to raise it."
                )
            )
            _refuse(form, None, message % numbers, "spending_cap_reached")
    if form.voice == "optional" and context["voices"] and not form.cleaned_data.get("voice_provenance"):
        _refuse(
            form,
            "voice_provenance",
            gettext("Tell us whose voice is in your recording and what gives you the right."),
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
            gettext("This needs %(needed)d credits and the workspace has %(available)d available.")
            % {"needed": exc.needed, "available": exc.available},
            "insufficient_credits",
        )
    except SpendingCapReached as exc:
        _refuse(
            form,
            None,
            gettext(
                "This needs %(needed)d credits, but your monthly cap is %(cap)d and you have used %(spent)d this month."
            )
            % {"needed": exc.needed, "cap": exc.cap, "spent": exc.spent},
            "spending_cap_reached",
        )
    except CreditsRefused as exc:
        _refuse(form, None, gettext(str(exc).capitalize() + "."), "credits_refused")
    except ConsentMissing as exc:
        _refuse(form, None, gettext("Consent is incomplete: %(why)s.") % {"why": gettext(str(exc))}, "consent_missing")
    return []
