"""The jobs' pages: history (filters, live rows), compare, the new-job form (and its
uploads, and running a job again), the job page with its polled status, review marks,
cancel, the signed input links providers fetch, and Sync's signed webhook. Views parse,
call one service, render.

Which jobs a user may see is decided in ``selectors.jobs_for`` (every workspace they belong
to) and ``selectors.workspace_history`` (the one they work in); what their role lets them do,
by ``workspace_required`` and ``require_access_to``."""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotModified,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect

from lipsync_site.jobs import idempotency, selectors, services
from lipsync_site.jobs.forms import MAX_VOICES, HistoryFilterForm, NewJobForm, ReviewForm
from lipsync_site.jobs.models import TERMINAL, EventKind, IdempotencyKey, Job
from lipsync_site.jobs.quote import BATCH_SHAPES, OPTIONAL_AUDIO_SHAPES, shape_inputs
from lipsync_site.jobs.selectors import job_page_context, jobs_for, new_job_context
from lipsync_site.jobs.submission import start_jobs
from lipsync_site.jobs.workflow.cancel import request_cancel
from lipsync_site.jobs.workflow.policy import CancelOutcome
from lipsync_site.jobs.workflow.poll import settle_from_notice
from lipsync_site.media import links
from lipsync_site.media.intake import Intake, take_media
from lipsync_site.media.serving import serve_asset
from lipsync_site.providers import syncso
from lipsync_site.providers.catalog import InputShape
from lipsync_site.view_access import public_view
from lipsync_site.workspaces.access import (
    object_workspace_required,
    require_access_to,
    require_role,
    workspace_required,
)
from lipsync_site.workspaces.roles import Capability, role_can

logger = logging.getLogger(__name__)

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


def _visible_job(request, job_id, *related, capability: Capability = Capability.VIEW):
    """The job and the user's access to its workspace (current or not). A job of a workspace
    the user is not in is a 404, exactly like a job that does not exist; a role without
    ``capability`` gets a 403."""
    jobs = jobs_for(request.user)
    job = get_object_or_404(jobs.select_related(*related) if related else jobs, pk=job_id)
    return job, require_access_to(request, job.workspace_id, capability)


@workspace_required(Capability.VIEW)
@require_GET
def job_list(request):
    """The workspace's history: every member's jobs with who made each; filters and search in
    the URL, pages by keyset, rows in flight kept live."""
    filters = HistoryFilterForm(request.GET)
    query = filters.query()
    page = selectors.history_page(
        request.access.workspace,
        request.user,
        query,
        before=request.GET.get("before", ""),
        after=request.GET.get("after", ""),
        oldest=request.GET.get("oldest") == "1",
    )
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "filter_params": filters.params(),
        "workspace": request.access.workspace,
        "can_create": request.access.can(Capability.CREATE_JOBS),
    }
    response = render(request, "jobs/list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@workspace_required(Capability.VIEW)
@require_GET
def job_rows(request):
    """The history rows of jobs in flight, swapped in place (one request for every such row
    on screen); 286 stops the polling once none of them is in flight any more."""
    rows = selectors.history_rows(request.access.workspace, request.user, request.GET.getlist("id"))
    in_flight = [job for job in rows if job.in_flight]
    response = render(request, "jobs/partials/history_live.html", {"rows": rows, "in_flight": in_flight})
    if not in_flight:
        response.status_code = HTMX_STOP_POLLING
    return response


@workspace_required(Capability.VIEW)
@require_GET
def job_compare(request):
    """Two to four outputs side by side, played, paused and seeked together."""
    jobs = selectors.compared_jobs(request.user, request.GET.getlist("job"))
    reviews = selectors.latest_reviews(jobs)
    for job in jobs:
        job.latest_review = reviews.get(job.pk)
    context = {"jobs": jobs, "max": selectors.COMPARE_MAX, "can_review": request.access.can(Capability.REVIEW)}
    return render(request, "jobs/compare.html", context)


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
    return take_media(
        owner=request.user,
        workspace=request.access.workspace,
        kept=kept,
        uploads=uploads,
        max_voices=MAX_VOICES,
        store=store,
    )


@workspace_required(Capability.CREATE_JOBS)
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
    workspace = request.access.workspace
    if request.method == "GET":
        # Run again (``?rerun=``; ``?from=`` in older links): any member's job of this workspace.
        source = request.GET.get("rerun") or request.GET.get("from")
        if source:
            rerun = selectors.rerun_of(workspace, source)
            if rerun is None:
                raise Http404
            # The same media and answers, as if checked; consent is attested anew.
            initial, intake = rerun
            form = NewJobForm(_rerun_data(initial, intake), voice_count=0)
            form.is_valid()
            form.errors.clear()
            context = new_job_context(workspace, request.user, form, intake)
            context["rerun"] = initial["rerun"]
            context["once_key"] = uuid.uuid4().hex
            return render(request, "jobs/new.html", context)
        form = NewJobForm(initial={"shape": _chosen_shape(request.GET)})
        context = {**new_job_context(workspace, request.user, form, Intake()), "once_key": uuid.uuid4().hex}
        return render(request, "jobs/new.html", context)

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
        form.add_error(
            None, gettext("A file is larger than the upload limit of %(cap).0f MB; nothing was stored.") % {"cap": cap}
        )
    if interrupted and not too_large:
        form.add_error(
            None, gettext("The upload was interrupted before it finished; nothing was stored. Please try again.")
        )
    for slot, message in intake.errors:
        form.add_error(_UPLOAD_FIELDS[slot], message)

    context = new_job_context(workspace, request.user, form, intake)
    if step == "start" and not too_large and not interrupted and not intake.refused:
        jobs = _start(request, form, context)
        if jobs:
            if len(jobs) == 1:
                messages.success(request, gettext("Job created. We will keep this page up to date."))
                return _redirect(request, reverse("jobs:detail", args=[jobs[0].id]))
            messages.success(
                request,
                gettext("%(count)d jobs created, one per voice; they run one after another.") % {"count": len(jobs)},
            )
            return _redirect(request, reverse("jobs:list"))
        intake.forget_new()
        context = new_job_context(workspace, request.user, form, intake)
    if step != "start":
        # Checking is not submitting: only media problems are errors at this step.
        for name in list(form.errors):
            if name not in MEDIA_FIELDS:
                del form.errors[name]
    # The same one-time key until the job(s) exist: a refused start may be corrected and sent again.
    context["once_key"] = (request.POST.get("once") or "")[: idempotency.MAX_KEY_LENGTH] or uuid.uuid4().hex
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


def _rerun_data(initial: dict, intake: Intake) -> QueryDict:
    """The answers of a job run again, as if the form had posted them."""
    data = QueryDict(mutable=True)
    for name, value in initial.items():
        data[name] = str(value)
    if intake.video:
        data["video_asset"] = str(intake.video.pk)
    if intake.portrait:
        data["portrait_asset"] = str(intake.portrait.pk)
    data.setlist("voice_assets", [str(voice.pk) for voice in intake.voices])
    if intake.evidence:
        data["evidence_asset"] = str(intake.evidence.pk)
    return data


@workspace_required(Capability.CREATE_JOBS)
@require_POST
def job_upload(request):
    """One slot's file(s), uploaded by the form's script with a progress bar: stored (probed,
    analysed) at once; the answer names the stored assets the form then keeps by id, or
    says why the file was refused. Without JavaScript the form uploads with its check."""
    slot = request.POST.get("slot", "")
    if slot not in _UPLOAD_FIELDS:
        return JsonResponse({"error": gettext("Unknown upload slot.")}, status=400)
    if getattr(request, "upload_too_large", False):
        cap = settings.MEDIA_UPLOAD_MAX_BYTES / 1024**2
        return JsonResponse(
            {"error": gettext("This file is larger than the upload limit of %(cap).0f MB.") % {"cap": cap}}, status=413
        )
    if getattr(request, "upload_interrupted", False):
        return JsonResponse(
            {"error": gettext("The upload was interrupted before it finished. Please try again.")}, status=400
        )
    files = request.FILES.getlist("file")
    if not files:
        return JsonResponse({"error": gettext("No file arrived. Please choose it again.")}, status=400)
    intake = take_media(
        owner=request.user, workspace=request.access.workspace, kept={}, uploads={slot: files}, max_voices=MAX_VOICES
    )
    if intake.refused:
        return JsonResponse({"error": " ".join(message for _, message in intake.errors)}, status=400)
    stored = {"video": [intake.video], "portrait": [intake.portrait], "evidence": [intake.evidence]}.get(
        slot, intake.voices
    )
    return JsonResponse(
        {
            "slot": slot,
            "field": _KEPT_FIELDS[slot],
            "assets": [{"id": str(asset.pk), "name": asset.display_name} for asset in stored if asset is not None],
        }
    )


def _redirect(request, url: str):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _start(request, form, context) -> list[Job]:
    """Create the job(s) once per form (its one-time ``once`` key): a double click or a
    resubmitted page gets the jobs the first submission made. Refusals go on the form."""
    key = (request.POST.get("once") or "").strip()[: idempotency.MAX_KEY_LENGTH]
    start = partial(
        start_jobs,
        form,
        context,
        owner=request.user,
        workspace=request.access.workspace,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.headers.get("User-Agent", ""),
    )
    if not key:
        return start()
    workspace = request.access.workspace
    with idempotency.once(workspace=workspace, origin=IdempotencyKey.Origin.FORM, key=key, fingerprint="") as claim:
        if claim.replay:
            return list(Job.objects.filter(workspace=workspace, pk__in=claim.response["jobs"]).order_by("created_at"))
        jobs = start()
        if jobs:
            claim.record(status_code=201, response={"jobs": [str(job.pk) for job in jobs]})
        return jobs


@workspace_required(Capability.VIEW)
@require_GET
def job_detail(request, job_id):
    job, access = _visible_job(request, job_id, "output", "poster", "attestation", "hold", "owner")
    context = job_page_context(
        job, request.user, can_act=access.can(Capability.CREATE_JOBS), can_review=access.can(Capability.REVIEW)
    )
    context["review_form"] = ReviewForm()
    context["job_workspace"] = access.workspace
    return render(request, "jobs/detail.html", context)


@object_workspace_required(Capability.VIEW)
@require_GET
@vary_on_headers("HX-Request")
def job_status(request, job_id):
    """The polled fragment, the hottest path: one narrow query (the job's columns it shows
    and the user's role in its workspace) while the job is in flight, and 304 when nothing it
    shows has changed (its ETag). Once the job is finished the final state (player,
    download) is rendered with 286, so htmx swaps it in and stops."""
    try:
        job = selectors.status_snapshot(job_id, request.user)
    except (ValidationError, ValueError):
        job = None
    # Another workspace's job (or none) is a 404; the role decides what the user may do.
    require_role(job.member_role if job is not None else None, Capability.VIEW)
    can_act = role_can(job.member_role, Capability.CREATE_JOBS)
    if job.status in TERMINAL:
        job = selectors.finished_job(request.user, job_id)
        # The last poll also brings the page's credits line up to date (charged or released).
        context = {**selectors.status_context(job, request.user, can_act=can_act), "final_poll": True}
        response = TemplateResponse(request, "jobs/detail.html#status", context)
        response.status_code = HTMX_STOP_POLLING
        return response
    etag = selectors.status_etag(job)
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        # Rendered from the job alone: no context processors, no CSRF token (see the template).
        context = {**selectors.status_context(job, request.user, can_act=can_act, etag=etag), "polled": True}
        response = HttpResponse(get_template("jobs/partials/status_in_flight.html").render(context))
    response["ETag"] = etag
    # Revalidate every time: the page polls, and a stale copy would freeze the progress bar.
    response["Cache-Control"] = "private, no-cache"
    return response


@workspace_required(Capability.REVIEW)
@require_POST
def job_review(request, job_id):
    """Mark a delivered output approved, needing changes or rejected, with a comment (any
    member who may review, in the job's workspace)."""
    job, _ = _visible_job(request, job_id, capability=Capability.REVIEW)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose approved, needs changes or rejected."))
        return redirect("jobs:detail", job_id=job.id)
    try:
        services.mark_output(
            job=job, author=request.user, verdict=form.cleaned_data["verdict"], comment=form.cleaned_data["comment"]
        )
    except ValueError as exc:
        messages.error(request, gettext("This output cannot be reviewed: %(why)s.") % {"why": gettext(str(exc))})
    else:
        messages.success(request, gettext("Marked “%(verdict)s”.") % {"verdict": form.verdict_label})
    return redirect(request.POST.get("next") if _safe_next(request) else reverse("jobs:detail", args=[job.id]))


def _safe_next(request) -> bool:
    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


@workspace_required(Capability.CREATE_JOBS)
@require_POST
def job_cancel(request, job_id):
    """Any member who may make jobs may stop one: the credits are the whole team's."""
    job, _ = _visible_job(request, job_id, capability=Capability.CREATE_JOBS)
    outcome = request_cancel(job, actor=f"user:{request.user.pk}")
    level = messages.INFO if outcome == CancelOutcome.CANCELLED else messages.WARNING
    messages.add_message(request, level, gettext(outcome.message))
    return _redirect(request, reverse("jobs:detail", args=[job.id]))


@public_view("a provider fetching a job's input: the signed, expiring provider token is the permission")
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


@public_view("Sync Labs reporting a generation: the Sync-Signature over the body is the permission")
@csrf_exempt  # the one endpoint without a session: its Sync-Signature is checked instead
@require_POST
def sync_webhook(request):
    """Sync Labs reports that a generation ended. Nothing is trusted before its signature
    (``Sync-Signature``, fresh, over the body) checks out; then the job moves as a poll
    would move it. Polling remains the fallback when a delivery never comes."""
    try:
        payload = syncso.verify_webhook(request.body, request.headers.get("Sync-Signature", ""))
    except syncso.WebhookRejected as exc:
        logger.warning("Sync webhook refused: %s", exc)
        return HttpResponseBadRequest("Invalid signature.")
    generation_id = payload.get("id")
    if isinstance(generation_id, str) and generation_id:
        settle_from_notice("syncso", generation_id, syncso.result_from_generation(payload))
    return JsonResponse({"received": True})
