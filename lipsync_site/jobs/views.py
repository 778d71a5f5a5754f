from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING

from lipsync_site.consent.services import ConsentMissing
from lipsync_site.credits.selectors import balance_summary
from lipsync_site.credits.services import InsufficientCredits
from lipsync_site.jobs import services
from lipsync_site.jobs.forms import NewJobForm
from lipsync_site.jobs.models import Job
from lipsync_site.jobs.selectors import job_page_context
from lipsync_site.jobs.services.lifecycle import CancelOutcome, request_cancel
from lipsync_site.media import links
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.serving import serve_asset


def _owned_job(request, job_id) -> Job:
    # Another user's job is a 404, exactly like a job that does not exist.
    return get_object_or_404(Job.objects.select_related("output", "attestation", "hold"), pk=job_id, owner=request.user)


@login_required
@require_GET
def job_list(request):
    jobs = Job.objects.filter(owner=request.user).select_related("output")
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page})


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


@login_required
@require_http_methods(["GET", "POST"])
def job_new(request):
    if request.method == "POST":
        form = NewJobForm(request.POST, request.FILES)
        if getattr(request, "upload_too_large", False):
            form.add_error(None, "A file is larger than the upload limit.")
        elif form.is_valid():
            data = form.cleaned_data
            video_shape = data["shape"] == "video_audio"
            try:
                job = services.create_job(
                    owner=request.user,
                    inputs=services.JobInputs(
                        shape=data["shape"],
                        route_id=data["route"],
                        source_video=data["source_video"] if video_shape else None,
                        portrait=None if video_shape else data["portrait"],
                        voice=data["voice_audio"],
                        mismatch_mode=data["mismatch_mode"],
                    ),
                    consent=services.Consent(
                        likeness_consent=data["likeness_consent"],
                        voice_provenance=data["voice_provenance"],
                        person_name=data["person_name"],
                        ip_address=_client_ip(request),
                        user_agent=request.headers.get("User-Agent", ""),
                    ),
                )
            except MediaRejected as exc:
                form.add_error(None, exc.message)
            except InsufficientCredits as exc:
                form.add_error(None, f"This job needs {exc.needed} credits and you have {exc.available} available.")
            except ConsentMissing:
                form.add_error(None, "Consent, voice provenance and the person's name are required.")
            else:
                messages.success(request, "Job created. We will keep this page up to date.")
                return redirect("jobs:detail", job_id=job.id)
    else:
        form = NewJobForm()
    return render(
        request,
        "jobs/new.html",
        {"form": form, "balance": balance_summary(request.user)},
        status=400 if form.errors else 200,
    )


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
