import uuid
from dataclasses import dataclass, field

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
from lipsync_site.credits.selectors import balance_summary
from lipsync_site.credits.services import InsufficientCredits
from lipsync_site.jobs import services
from lipsync_site.jobs.forms import MAX_VOICES, NewJobForm
from lipsync_site.jobs.models import Job
from lipsync_site.jobs.selectors import job_page_context
from lipsync_site.jobs.services.creation import (
    BATCH_SHAPES,
    OPTIONAL_AUDIO_SHAPES,
    offer_routes,
    probe_facts,
    shape_inputs,
    suggest_route,
)
from lipsync_site.jobs.services.lifecycle import CancelOutcome, request_cancel
from lipsync_site.media import links
from lipsync_site.media.models import Asset
from lipsync_site.media.names import clean_original_name
from lipsync_site.media.preflight import run_checks
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.services import discard_new_files, store_evidence, store_upload
from lipsync_site.media.serving import serve_asset
from lipsync_site.providers.catalog import InputShape


def _owned_job(request, job_id) -> Job:
    # Another user's job is a 404, exactly like a job that does not exist.
    return get_object_or_404(
        Job.objects.select_related("output", "poster", "attestation", "hold"), pk=job_id, owner=request.user
    )


@login_required
@require_GET
def job_list(request):
    jobs = Job.objects.filter(owner=request.user).select_related("output")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


@dataclass
class Intake:
    """The media of one new-job submission: stored by this request or an earlier step."""

    video: Asset | None = None
    portrait: Asset | None = None
    voices: list[Asset] = field(default_factory=list)
    evidence: Asset | None = None
    new: list[Asset] = field(default_factory=list)  # stored by this request
    errors: list[tuple[str | None, str]] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors)

    def forget_new(self) -> None:
        """A refused or failed request leaves nothing behind: drop what it stored."""
        forget = [asset for asset in self.new if getattr(asset, "newly_stored", False)]
        discard_new_files(forget)
        Asset.objects.filter(pk__in=[asset.pk for asset in forget]).delete()
        gone = {asset.pk for asset in forget}
        self.video = None if self.video and self.video.pk in gone else self.video
        self.portrait = None if self.portrait and self.portrait.pk in gone else self.portrait
        self.evidence = None if self.evidence and self.evidence.pk in gone else self.evidence
        self.voices = [voice for voice in self.voices if voice.pk not in gone]
        self.new = []


def _owned_assets(user, ids, kind) -> list[Asset]:
    """The user's own uploads among ``ids``, in the order given; anything else is ignored."""
    valid = []
    for value in ids[:MAX_VOICES]:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    found = {a.pk: a for a in Asset.objects.filter(owner=user, kind=kind, origin=Asset.Origin.UPLOAD, pk__in=valid)}
    return [found[pk] for pk in valid if pk in found]


def _take_media(request, *, shape: str, store: bool) -> Intake:
    """Store this request's uploads (probe, analyse) and load the ones kept from earlier
    steps. A new upload in a slot replaces what the slot held."""
    intake = Intake()
    post, files, user = request.POST, request.FILES, request.user
    intake.video = next(iter(_owned_assets(user, post.getlist("video_asset"), Asset.Kind.VIDEO)), None)
    intake.portrait = next(iter(_owned_assets(user, post.getlist("portrait_asset"), Asset.Kind.IMAGE)), None)
    intake.voices = _owned_assets(user, post.getlist("voice_assets"), Asset.Kind.AUDIO)
    intake.evidence = next(
        iter(
            _owned_assets(user, post.getlist("evidence_asset"), Asset.Kind.DOCUMENT)
            or _owned_assets(user, post.getlist("evidence_asset"), Asset.Kind.IMAGE)
        ),
        None,
    )
    if not store:
        return intake
    needs = shape_inputs(shape)

    def keep(field_name: str, upload, store_one):
        try:
            asset = store_one(upload)
        except MediaRejected as exc:
            intake.errors.append(
                (field_name, f"{clean_original_name(upload.name or '') or 'This file'}: {exc.message}")
            )
            return None
        intake.new.append(asset)
        return asset

    if "video" in needs and files.get("source_video"):
        intake.video = keep(
            "source_video",
            files["source_video"],
            lambda upload: store_upload(owner=user, upload=upload, kind=Asset.Kind.VIDEO),
        )
    if "image" in needs and files.get("portrait"):
        intake.portrait = keep(
            "portrait", files["portrait"], lambda upload: store_upload(owner=user, upload=upload, kind=Asset.Kind.IMAGE)
        )
    voice_uploads = files.getlist("voice_audio")
    if len(voice_uploads) > MAX_VOICES:
        intake.errors.append(("voice_audio", f"Up to {MAX_VOICES} voices per submission; split the rest into another."))
        voice_uploads = []
    if (shape in BATCH_SHAPES or shape in OPTIONAL_AUDIO_SHAPES) and voice_uploads:
        stored = [
            keep("voice_audio", upload, lambda item: store_upload(owner=user, upload=item, kind=Asset.Kind.AUDIO))
            for upload in voice_uploads
        ]
        intake.voices = [voice for voice in stored if voice is not None]
    if files.get("evidence"):
        intake.evidence = keep("evidence", files["evidence"], lambda upload: store_evidence(owner=user, upload=upload))
    if intake.refused:
        intake.forget_new()
    return intake


def _new_job_context(request, form, intake: Intake) -> dict:
    """Everything the new-job page shows: stored media, preflight checks, routes, cost."""
    shape = form.shape
    data = form.data
    video = intake.video if form.wants_video else None
    portrait = intake.portrait if form.wants_portrait else None
    voices = intake.voices if form.wants_voice else []
    if shape not in BATCH_SHAPES:
        voices = voices[:1]
    mode = data.get("mismatch_mode") or "loop"
    checks = run_checks(
        video=video, portrait=portrait, voices=voices, confirmed_no_face=bool(data.get("confirm_no_face"))
    )
    ready = bool((video or not form.wants_video) and (portrait or not form.wants_portrait))
    ready = ready and bool(voices or not form.wants_voice or form.voice_optional)
    ready = ready and bool((data.get("script") or "").strip() or not form.wants_script)
    offers = []
    if ready:
        offers = offer_routes(
            shape=shape,
            video=video,
            portrait=portrait,
            voices=voices,
            text=(data.get("script") or "").strip(),
            mismatch_mode=mode,
            options={"duration": _float(data.get("duration"))},
        )
    balance = balance_summary(request.user)
    facts = probe_facts(
        video=video, portrait=portrait, voice=voices[0] if voices else None, text=data.get("script", "")
    )
    suggestion = suggest_route(offers, shape=shape, facts=facts, budget=balance["available"])
    suggested = suggestion.route if suggestion else None
    chosen_id = data.get("route") or (suggested.id if suggested else "")
    chosen = next((offer for offer in offers if offer.route.id == chosen_id), None)
    if chosen is not None and not chosen.fits and suggested is not None:
        chosen = next(offer for offer in offers if offer.route.id == suggested.id)
    no_route = ""
    if not form.routes:
        no_route = (
            "Script-only needs a cloud route, and none is available yet."
            if shape == InputShape.SCRIPT
            else "No route available for this shape yet."
        )
    elif ready and suggested is None:
        no_route = "No route fits these inputs: see the reasons below."
    blocks = [check for check in checks if check.blocks]
    return {
        "form": form,
        "intake": intake,
        "video": video,
        "portrait": portrait,
        "voices": voices,
        "checks": checks,
        "blocks": blocks,
        "confirmable": any(check.confirmable for check in blocks) or bool(data.get("confirm_no_face")),
        "mismatch": any(check.code == "mismatch" and check.level != "pass" for check in checks),
        "offers": offers,
        "suggested": suggested,
        "suggestion": suggestion,
        "chosen": chosen,
        "no_route": no_route,
        "ready": ready,
        "can_start": ready and chosen is not None and not blocks,
        "balance": balance,
    }


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


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
        shape = request.GET.get("shape") if request.GET.get("shape") in InputShape.values else InputShape.VIDEO_AUDIO
        form = NewJobForm(initial={"shape": shape})
        context = _new_job_context(request, form, Intake())
        return render(request, "jobs/new.html", context)

    step = request.POST.get("step") or "start"
    shape = request.POST.get("shape") if request.POST.get("shape") in InputShape.values else InputShape.VIDEO_AUDIO
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
    for field_name, message in intake.errors:
        form.add_error(field_name, message)

    context = _new_job_context(request, form, intake)
    if step == "start" and not too_large and not interrupted and not intake.refused:
        jobs = _start(request, form, context)
        if jobs:
            if len(jobs) == 1:
                messages.success(request, "Job created. We will keep this page up to date.")
                return _redirect(request, reverse("jobs:detail", args=[jobs[0].id]))
            messages.success(request, f"{len(jobs)} jobs created, one per voice; they run one after another.")
            return _redirect(request, reverse("jobs:list"))
        intake.forget_new()
        context = _new_job_context(request, form, intake)
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


MEDIA_FIELDS = {"source_video", "portrait", "voice_audio", "evidence", "__all__"}


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
    data = form.cleaned_data
    intake = context["intake"]
    voices = context["voices"] or [None]
    consents = []
    for index, _voice in enumerate(voices, start=1):
        speaker, provenance = (
            form.per_voice_consent(index)
            if len(voices) > 1
            else (
                data.get("speaker_name") or "",
                data["voice_provenance"],
            )
        )
        consents.append(
            services.Consent(
                likeness_consent=data["likeness_consent"],
                voice_provenance=provenance,
                person_name=data["person_name"],
                speaker_name=speaker,
                public_figure=bool(data.get("public_figure")),
                no_misuse=data["no_misuse"],
                evidence=intake.evidence,
                ip_address=_client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        )
    inputs = services.JobInputs(
        shape=form.shape,
        route_id=chosen.route.id,
        source_video=context["video"],
        portrait=context["portrait"],
        script=(data.get("script") or "").strip() if form.wants_script else "",
        prompt=(data.get("script") or "").strip() if form.shape == InputShape.SCRIPT else "",
        mismatch_mode=data.get("mismatch_mode") or "cut_off",
        options={"duration": data["duration"]} if data.get("duration") else {},
    )
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
        actor="provider",
        payload={"range": request.headers.get("Range", ""), "agent": request.headers.get("User-Agent", "")[:100]},
    )
    return serve_asset(request, asset, as_attachment=False)
