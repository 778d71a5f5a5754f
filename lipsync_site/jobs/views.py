"""The jobs' pages: history, the new-job form, the job page and its polled status, cancel,
and the signed input links providers fetch. Views parse, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from lipsync_site.consent.services import ConsentMissing
from lipsync_site.credits.services import InsufficientCredits
from lipsync_site.jobs import services
from lipsync_site.jobs.forms import MAX_VOICES, NewJobForm
from lipsync_site.jobs.models import EventKind, Job
from lipsync_site.jobs.quote import BATCH_SHAPES, OPTIONAL_AUDIO_SHAPES, shape_inputs
from lipsync_site.jobs.selectors import job_page_context, new_job_context
from lipsync_site.jobs.workflow.cancel import request_cancel
from lipsync_site.jobs.workflow.policy import CancelOutcome
from lipsync_site.media import links
from lipsync_site.media.intake import Intake, take_media
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.serving import serve_asset
from lipsync_site.providers.catalog import InputShape

# Form fields that carry media: at the checking step only their errors are shown.
MEDIA_FIELDS = {"source_video", "portrait", "voice_audio", "evidence", "__all__"}
# Intake slots and the form fields their uploads arrive in.
_UPLOAD_FIELDS = {"video": "source_video", "portrait": "portrait", "voices": "voice_audio", "evidence": "evidence"}
_KEPT_FIELDS = {
    "video": "video_asset",
    "portrait": "portrait_asset",
    "voices": "voice_assets",
    "evidence": "evidence_asset",
}


def _owned_job(request, job_id) -> Job:
    # Another user's job is a 404, exactly like a job that does not exist.
    return get_object_or_404(
        Job.objects.select_related("output", "poster", "attestation", "hold"), pk=job_id, owner=request.user
    )


@login_required
@require_GET
def job_list(request):
    jobs = Job.objects.filter(owner=request.user).select_related("hold")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


def _chosen_shape(data) -> str:
    shape = data.get("shape")
    return shape if shape in InputShape.values else InputShape.VIDEO_AUDIO


def _slots_for(shape: str) -> set[str]:
    """The intake slots a shape takes uploads into."""
    needs = shape_inputs(shape)
    slots = {"evidence"}
    if "video" in needs:
        slots.add("video")
    if "image" in needs:
        slots.add("portrait")
    if shape in BATCH_SHAPES or shape in OPTIONAL_AUDIO_SHAPES:
        slots.add("voices")
    return slots


def _take_media(request, *, shape: str, store: bool) -> Intake:
    kept = {slot: request.POST.getlist(name) for slot, name in _KEPT_FIELDS.items()}
    uploads = {
        slot: request.FILES.getlist(_UPLOAD_FIELDS[slot])
        for slot in _slots_for(shape)
        if request.FILES.getlist(_UPLOAD_FIELDS[slot])
    }
    return take_media(owner=request.user, kept=kept, uploads=uploads, max_voices=MAX_VOICES, store=store)


@login_required
@require_http_methods(["GET", "POST"])
def job_new(request):
    """The new-job form in steps: choose the shape, upload (each file is checked and
    stored at once), see the preflight checks, routes and cost, then confirm.

    ``step=shape`` re-renders the fields for the chosen shape; ``step=check`` stores
    the uploads and shows preflight; ``step=start`` creates the job(s). With htmx each
    step swaps the form in place; without JavaScript the buttons do the same with whole
    pages. Jobs are created only from media that passed preflight, and a start that
    fails keeps nothing this request stored.
    """
    if request.method == "GET":
        form = NewJobForm(initial={"shape": _chosen_shape(request.GET)})
        return render(request, "jobs/new.html", new_job_context(request.user, form, Intake()))

    step = request.POST.get("step") or "start"
    shape = _chosen_shape(request.POST)
    too_large = getattr(request, "upload_too_large", False)
    interrupted = getattr(request, "upload_interrupted", False)
    intake = _take_media(request, shape=shape, store=step != "shape" and not too_large and not interrupted)
    count = len(intake.voices) if shape in BATCH_SHAPES else 0
    form = NewJobForm(request.POST, request.FILES, voice_count=count if count > 1 else 0)
    form.is_valid()
    if too_large:
        cap = settings.MEDIA_UPLOAD_MAX_BYTES / 1024**2
        form.add_error(None, f"A file is larger than the upload limit of {cap:.0f} MB; nothing was stored.")
    if interrupted and not too_large:
        form.add_error(None, "The upload was interrupted before it finished; nothing was stored. Please try again.")
    for slot, message in intake.errors:
        form.add_error(_UPLOAD_FIELDS[slot], message)

    context = new_job_context(request.user, form, intake)
    if step == "start" and not too_large and not interrupted and not intake.refused:
        jobs = _start(request, form, context)
        if jobs:
            if len(jobs) == 1:
                messages.success(request, "Job created. We will keep this page up to date.")
                return _redirect(request, reverse("jobs:detail", args=[jobs[0].id]))
            messages.success(request, f"{len(jobs)} jobs created, one per voice; they run one after another.")
            return _redirect(request, reverse("jobs:list"))
        intake.forget_new()
        context = new_job_context(request.user, form, intake)
    if step != "start":
        # Checking is not submitting: only media problems are errors at this step.
        for name in list(form.errors):
            if name not in MEDIA_FIELDS:
                del form.errors[name]
    template = "jobs/new.html#job_form" if request.htmx else "jobs/new.html"
    status = 200
    if not request.htmx:  # htmx swaps only 2xx answers; the page itself says what went wrong
        if too_large:
            status = 413
        elif form.errors and (step == "start" or intake.refused or interrupted):
            status = 400
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _start(request, form, context) -> list[Job]:
    """Create the job(s) if everything is in order; else add the reasons to the form."""
    if context["no_route"]:
        form.add_error(None, context["no_route"])
    if not context["ready"]:
        form.add_error(None, "Add the media this kind of job needs.")
    for check in context["blocks"]:
        form.add_error(None, f"{check.subject}: {check.reason}")
    chosen = context["chosen"]
    wanted = form.data.get("route")
    if chosen is not None and wanted and wanted != chosen.route.id:
        form.add_error("route", "That route cannot take these inputs; see the reasons next to it.")
    available = context["balance"]["available"]
    if chosen is not None and chosen.credits > available:
        jobs = f"These {len(chosen.seconds)} jobs need" if len(chosen.seconds) > 1 else "This job needs"
        form.add_error(None, f"{jobs} {chosen.credits} credits and you have {available} available.")
    if form.errors or chosen is None:
        return []
    voices = context["voices"] or [None]
    consents = form.consents(
        len(voices),
        evidence=context["intake"].evidence,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.headers.get("User-Agent", ""),
    )
    inputs = form.job_inputs(route_id=chosen.route.id, video=context["video"], portrait=context["portrait"])
    try:
        return services.create_jobs_batch(owner=request.user, inputs=inputs, voices=voices, consents=consents)
    except MediaRejected as exc:
        form.add_error(None, exc.message)
    except InsufficientCredits as exc:
        form.add_error(None, f"This needs {exc.needed} credits and you have {exc.available} available.")
    except ConsentMissing as exc:
        form.add_error(None, f"Consent is incomplete: {exc}.")
    return []


@login_required
@require_GET
def job_detail(request, job_id):
    job = _owned_job(request, job_id)
    return render(request, "jobs/detail.html", job_page_context(job, request.user))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_status(request, job_id):
    """The polled fragment: rendered with 286 once the job is terminal, so htmx swaps
    in the final state (player, download) and stops polling."""
    job = _owned_job(request, job_id)
    response = TemplateResponse(request, "jobs/detail.html#status", job_page_context(job, request.user))
    if job.is_terminal:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@require_POST
def job_cancel(request, job_id):
    job = _owned_job(request, job_id)
    outcome = request_cancel(job, actor=f"user:{request.user.pk}")
    level = messages.INFO if outcome == CancelOutcome.CANCELLED else messages.WARNING
    messages.add_message(request, level, outcome.message)
    return redirect("jobs:detail", job_id=job.id)


@require_GET
def job_input(request, token: str, filename: str):
    """A provider fetching one of a job's inputs: public, signed, expiring, logged."""
    try:
        asset, claims = links.resolve(token, links.Purpose.PROVIDER)
    except links.InvalidLink:
        raise Http404 from None
    job = Job.objects.filter(pk=claims.job_id).first()
    if job is None or job.is_terminal or asset not in job.input_assets:
        raise Http404
    job.log(
        f"Provider fetched the {asset.kind} input.",
        kind=EventKind.INPUT_FETCHED,
        actor="provider",
        payload={"range": request.headers.get("Range", ""), "agent": request.headers.get("User-Agent", "")[:100]},
    )
    return serve_asset(request, asset, as_attachment=False)
