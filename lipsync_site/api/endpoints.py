"""The token API under /api/v1/ (django-ninja): the web form's judgement, quote, history
and ledger, answered as JSON. Each operation authenticates the token (``auth``), checks
its scope and its maker's role, and calls the same selectors and services as the pages.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse, QueryDict
from django.utils import timezone, translation
from ninja import File, Form, NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from lipsync_site.api import schemas
from lipsync_site.api.errors import ApiError, not_found
from lipsync_site.api.models import Scope
from lipsync_site.api.services import TokenAccess, TokenRefused, authenticate
from lipsync_site.consent import texts
from lipsync_site.credits.selectors import entries_for, spendable
from lipsync_site.jobs import idempotency
from lipsync_site.jobs.forms import CONSENT_SUBJECTS, MAX_VOICES, HistoryFilterForm, NewJobForm
from lipsync_site.jobs.models import IdempotencyKey, Job, Status
from lipsync_site.jobs.quote import BATCH_SHAPES
from lipsync_site.jobs.selectors import history_page, new_job_context
from lipsync_site.jobs.submission import start_jobs
from lipsync_site.jobs.workflow.cancel import request_cancel
from lipsync_site.jobs.workflow.policy import CancelOutcome
from lipsync_site.media import links
from lipsync_site.media.intake import take_media
from lipsync_site.media.services import sha256_of
from lipsync_site.providers.catalog import InputShape
from lipsync_site.workspaces.roles import Capability

logger = logging.getLogger(__name__)


# --- Who is asking ------------------------------------------------------------------------
class TokenAuth(HttpBearer):
    """``Authorization: Bearer lsk_...``: checked on every request (revocation and expiry
    take effect at once), then the scope this operation needs, then the maker's role."""

    def __init__(self, scope: str, capability: Capability):
        super().__init__()
        self.scope = scope
        self.capability = capability

    def authenticate(self, request: HttpRequest, token: str) -> TokenAccess:
        try:
            found = authenticate(token)
        except TokenRefused as exc:
            raise ApiError(401, exc.code, exc.message) from None
        if self.scope not in found.token.scopes:
            raise ApiError(403, "scope_missing", f"This needs a token with the {self.scope} scope.")
        if not found.access.can(self.capability):
            raise ApiError(
                403, "role_forbids", f"The role of {found.user.get_username()} in the workspace does not allow this."
            )
        return found


READ = TokenAuth(Scope.READ, Capability.VIEW)
WRITE = TokenAuth(Scope.WRITE, Capability.CREATE_JOBS)


class TokenRateThrottle(AuthRateThrottle):
    """``API_RATE_LIMIT`` requests per token, counted in the shared cache (every web
    process sees the same count); read at each request so a deploy knob needs no restart."""

    scope = "api-token"

    def __init__(self):
        super().__init__(settings.API_RATE_LIMIT)

    def allow_request(self, request) -> bool:
        if self.rate != settings.API_RATE_LIMIT:
            self.rate = settings.API_RATE_LIMIT
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


api = NinjaAPI(
    title="lipsync API",
    version="1",
    description=(
        "Upload media, quote, start single jobs or batches of voices, follow them, download the outputs, "
        "and read the workspace's credits. Errors are `{code, message}`; POSTs that create or spend take an "
        "`Idempotency-Key` header. Webhooks are set up on the workspace's API page."
    ),
    urls_namespace="api",
    docs_url=None,  # served at /api/docs (see lipsync_site.urls)
    openapi_url="/openapi.json",
    auth=READ,
    throttle=[TokenRateThrottle()],
)

ERRORS = {code: schemas.Error for code in (401, 403, 404, 409, 413, 422, 429)}
IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH},
            "description": "The same key and body within 24 h returns the first answer; another body is a 422.",
        }
    ]
}


def _error(request, status: int, code: str, message: str, *, errors=None, headers=None):
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, errors=exc.errors, headers=exc.headers)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())[1:]),
            "code": error.get("type", ""),
            "message": error.get("msg", ""),
        }
        for error in exc.errors
    ]
    return _error(request, 422, "invalid_request", "The request does not match the schema.", errors=errors)


@api.exception_handler(Http404)
def _missing(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    return _error(request, 429, "rate_limited", "Too many requests for this token; wait as Retry-After says.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "token_missing", "Send the token as `Authorization: Bearer <token>`.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "invalid_request", str(exc))


# --- Idempotency ------------------------------------------------------------------------------
def _json(status: int, body: dict, *, replayed: bool = False) -> JsonResponse:
    response = JsonResponse(body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _once(request, fingerprint: str, work) -> JsonResponse:
    """Answer ``work()`` (a schema) as 201, once per ``Idempotency-Key``: a repeat within a
    day gets the first answer; the same key for another request is a 422. A refusal is not
    remembered (nothing was created or spent; the repeat is judged afresh)."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        return _json(201, work().model_dump(mode="json"))
    if len(key) > idempotency.MAX_KEY_LENGTH:
        raise ApiError(
            422, "invalid_request", f"An Idempotency-Key is at most {idempotency.MAX_KEY_LENGTH} characters."
        )
    access: TokenAccess = request.auth
    try:
        with idempotency.once(
            workspace=access.workspace, origin=IdempotencyKey.Origin.API, key=key, fingerprint=fingerprint
        ) as claim:
            if claim.replay:
                return _json(claim.status_code, claim.response, replayed=True)
            body = work().model_dump(mode="json")
            claim.record(status_code=201, response=body)
    except idempotency.KeyReused:
        raise ApiError(
            422, "idempotency_key_reused", "This Idempotency-Key was used in the last 24 hours for a different request."
        ) from None
    return _json(201, body)


# --- Consent -----------------------------------------------------------------------------------
@api.get("/consent", response=schemas.ConsentOut, tags=["consent"], summary="The consent wording to attest to")
def consent(request):
    """The current consent version and its exact wording for each kind of job. A job's
    ``consent.version`` must be this version: an older one is refused (``consent_outdated``).
    In the request's language (Accept-Language: English, or Simplified Chinese), the one a
    job started by the same client is attested in."""
    version = texts.CURRENT_VERSION
    language = translation.get_language()
    by_shape = {}
    for shape in InputShape:
        picture, voice = CONSENT_SUBJECTS[shape]
        said = texts.wording(picture, voice, version, language)
        by_shape[shape.value] = schemas.ConsentWording(
            **{name: getattr(said, name) for name in schemas.ConsentWording.model_fields}
        )
    return schemas.ConsentOut(version=version, voice_provenance_choices=dict(said.voice_choices), by_shape=by_shape)


# --- Media ---------------------------------------------------------------------------------------
UPLOAD_SLOTS = {"video": "video", "portrait": "portrait", "voice": "voices", "evidence": "evidence"}


@api.post(
    "/media",
    auth=WRITE,
    response={201: schemas.AssetOut, **ERRORS},
    tags=["media"],
    summary="Upload a video, portrait, voice or signed release",
    openapi_extra=IDEMPOTENCY_DOC,
)
def upload_media(request, slot: Form[str], file: File[UploadedFile] = None):
    """Multipart, streamed to disk and checked like the form's uploads (probed by content,
    the same size limit, the same messages). ``slot`` is video, portrait, voice or evidence.
    The same content uploaded again answers the asset already stored."""
    if getattr(request, "upload_too_large", False):
        cap = settings.MEDIA_UPLOAD_MAX_BYTES / 1024**2
        raise ApiError(413, "upload_too_large", f"This file is larger than the upload limit of {cap:.0f} MB.")
    if getattr(request, "upload_interrupted", False):
        raise ApiError(400, "upload_interrupted", "The upload was interrupted before it finished. Please try again.")
    if slot not in UPLOAD_SLOTS:
        raise ApiError(422, "invalid_request", "slot is video, portrait, voice or evidence.")
    if file is None:
        raise ApiError(422, "invalid_request", "No file arrived. Please choose it again.")
    access: TokenAccess = request.auth
    intake_slot = UPLOAD_SLOTS[slot]

    def store():
        intake = take_media(
            owner=access.user, workspace=access.workspace, kept={}, uploads={intake_slot: [file]}, max_voices=1
        )
        if intake.refused:
            raise ApiError(422, "media_rejected", " ".join(message for _, message in intake.errors))
        stored = intake.voices[0] if intake_slot == "voices" else getattr(intake, intake_slot)
        return schemas.AssetOut.of(stored)

    path = getattr(file, "temporary_file_path", None)
    content = sha256_of(path()) if path else idempotency.fingerprint_of(file.read())
    file.seek(0)
    return _once(request, idempotency.fingerprint_of("media", slot, content), store)


# --- Quote and create --------------------------------------------------------------------------
def _form_data(choice: schemas.MediaChoice, consent: schemas.ConsentIn | None) -> QueryDict:
    """The request as the new-job form would have posted it."""
    data = QueryDict(mutable=True)
    data.update(
        {
            "shape": choice.shape,
            "route": choice.route,
            "script": choice.script,
            "mismatch_mode": choice.mismatch_mode,
            "step": "start",
        }
    )
    for name, value in (("duration", choice.duration), ("speaker", choice.speaker)):
        if value is not None:
            data[name] = str(value)
    if choice.confirm_no_face:
        data["confirm_no_face"] = "on"
    if choice.video:
        data["video_asset"] = choice.video
    if choice.portrait:
        data["portrait_asset"] = choice.portrait
    data.setlist("voice_assets", list(choice.voices))
    if consent is not None:
        data.update(
            {
                "person_name": consent.person_name,
                "voice_provenance": consent.voice_provenance,
                "speaker_name": consent.speaker_name,
                "public_figure": "yes" if consent.public_figure else "no",
            }
        )
        for name in ("likeness_consent", "no_misuse"):
            if getattr(consent, name):
                data[name] = "on"
        if consent.evidence:
            data["evidence_asset"] = consent.evidence
        for index, voice in enumerate(consent.voices, start=1):
            data[f"speaker_name_{index}"] = voice.speaker_name
            data[f"voice_provenance_{index}"] = voice.voice_provenance
    return data


def _checked_form(access: TokenAccess, choice: schemas.MediaChoice, consent: schemas.ConsentIn | None):
    """The form, its media and the new-job page's context, exactly as the page builds them.
    An id that is not one of the workspace's uploads is a 404."""
    if choice.shape not in InputShape.values:
        raise ApiError(422, "invalid_request", f"Unknown shape {choice.shape!r}.")
    data = _form_data(choice, consent)
    kept = {
        "video": data.getlist("video_asset"),
        "portrait": data.getlist("portrait_asset"),
        "voices": data.getlist("voice_assets"),
        "evidence": data.getlist("evidence_asset"),
    }
    if len(kept["voices"]) > MAX_VOICES:
        raise ApiError(
            422, "invalid_request", f"Up to {MAX_VOICES} voices per submission; split the rest into another."
        )
    intake = take_media(
        owner=access.user, workspace=access.workspace, kept=kept, uploads={}, max_voices=MAX_VOICES, store=False
    )
    found = {str(asset.pk) for asset in (intake.video, intake.portrait, intake.evidence, *intake.voices) if asset}
    missing = [value for values in kept.values() for value in values if value and value not in found]
    if missing:
        raise ApiError(404, "not_found", f"No such upload in this workspace: {missing[0]}.")
    count = len(intake.voices) if choice.shape in BATCH_SHAPES else 0
    form = NewJobForm(data, voice_count=count if count > 1 else 0)
    form.is_valid()
    context = new_job_context(access.workspace, access.user, form, intake)
    return form, context


def _offer(offer) -> schemas.Offer:
    return schemas.Offer(
        route=offer.route.id,
        label=str(offer.route.label),
        fits=offer.fits,
        problems=list(offer.problems),
        credits=offer.credits,
        credits_each=list(offer.credits_each),
        seconds=[round(seconds, 3) for seconds in offer.seconds],
        simulated=offer.simulated,
    )


@api.post("/quote", response={200: schemas.QuoteOut, **ERRORS}, tags=["jobs"], summary="Routes, fit and cost")
def quote(request, choice: schemas.MediaChoice):
    """What the new-job form shows before anything is held: every route for the shape with
    its cost for these uploads or why it does not fit, the suggested route and why, the
    preflight checks, and what the workspace may spend. Changes nothing."""
    _form, context = _checked_form(request.auth, choice, None)
    suggestion = context["suggestion"]
    return schemas.QuoteOut(
        ready=context["ready"],
        offers=[_offer(offer) for offer in context["offers"]],
        suggested=suggestion.route.id if suggestion else None,
        reason=suggestion.reason if suggestion else "",
        chosen=context["chosen"].route.id if context["chosen"] else None,
        no_route=context["no_route"],
        checks=[
            schemas.Check(
                code=check.code, level=check.level, subject=check.subject, message=check.reason, blocks=check.blocks
            )
            for check in context["checks"]
        ],
        can_start=context["can_start"],
        balance=context["balance"],
    )


# The form's field names as the API spells them (a batch's per-voice answers end in _1, _2...).
CONSENT_FIELDS = {"person_name", "likeness_consent", "voice_provenance", "speaker_name", "public_figure", "no_misuse"}
FIELD_NAMES = {
    "source_video": "video",
    "voice_audio": "voices",
    "video_asset": "video",
    "portrait_asset": "portrait",
    "voice_assets": "voices",
    "evidence": "consent.evidence",
    "evidence_asset": "consent.evidence",
    "__all__": "",
}


def _api_field(field: str) -> str:
    if field in FIELD_NAMES:
        return FIELD_NAMES[field]
    base = re.sub(r"_\d+$", "", field)
    return f"consent.{field}" if base in CONSENT_FIELDS else field


def _refusal(form) -> ApiError:
    """A refused submission as one error: the first stable code, every reason by field.
    A consent answer left out carries ``consent_missing`` (the form's own code is "required")."""
    errors = []
    for field, problems in form.errors.as_data().items():
        name = _api_field(field)
        for problem in problems:
            code = problem.code or "invalid"
            if name.startswith("consent.") and code in ("required", "invalid", "invalid_choice"):
                code = "consent_missing"
            errors.append({"field": name, "code": code, "message": " ".join(problem.messages)})
    first = errors[0] if errors else {"code": "invalid_submission", "message": "The submission was refused."}
    return ApiError(422, first["code"], first["message"], errors=errors)


@api.post(
    "/jobs",
    auth=WRITE,
    response={201: schemas.Created, **ERRORS},
    tags=["jobs"],
    summary="Start a job, or a batch of one picture with several voices",
    openapi_extra=IDEMPOTENCY_DOC,
)
def create_jobs(request, body: schemas.JobIn):
    """Judged exactly as the web form's Start: the same checks, the same messages, the
    same credit hold. Several ``voices`` make one job per voice (a batch), each with its
    own attestation (``consent.voices`` names each speaker and their rights)."""
    access: TokenAccess = request.auth
    if body.consent.version != texts.CURRENT_VERSION:
        raise ApiError(
            422,
            "consent_outdated",
            f"The consent wording changed: attest to version {texts.CURRENT_VERSION} "
            f"(GET /api/v1/consent), not {body.consent.version}.",
        )

    def start():
        form, context = _checked_form(access, body, body.consent)
        jobs = start_jobs(
            form,
            context,
            owner=access.user,
            workspace=access.workspace,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        if not jobs:
            raise _refusal(form)
        batch = jobs[0].batch
        return schemas.Created(jobs=[schemas.job_out(job) for job in jobs], batch=str(batch) if batch else None)

    return _once(request, idempotency.fingerprint_of("jobs", body.model_dump(mode="json")), start)


# --- Following jobs -------------------------------------------------------------------------------
def _job(access: TokenAccess, job_id: str) -> Job:
    try:
        pk = uuid.UUID(job_id)
    except ValueError:
        raise not_found() from None
    job = Job.objects.select_related("owner").filter(workspace=access.workspace, pk=pk).first()
    if job is None:
        raise not_found()
    return job


@api.get("/jobs", response={200: schemas.JobPage, **ERRORS}, tags=["jobs"], summary="History, filtered")
def list_jobs(request, filters: Query[schemas.JobFilters]):
    """The workspace's jobs, newest first, with the history page's filters and search."""
    access: TokenAccess = request.auth
    params = QueryDict(mutable=True)
    for name, value in filters.model_dump().items():
        if value not in (None, "") and name != "before":
            params[name] = str(value)
    query = HistoryFilterForm(params).query()
    page = history_page(access.workspace, access.user, query, before=filters.before)
    ids = [job.pk for job in page.rows]
    full = {job.pk: job for job in Job.objects.select_related("owner").filter(pk__in=ids)}
    return schemas.JobPage(
        jobs=[schemas.job_out(full[pk]) for pk in ids], next_cursor=page.older, matching=page.matching
    )


@api.get("/jobs/{job_id}", response={200: schemas.JobOut, **ERRORS}, tags=["jobs"], summary="One job, with events")
def get_job(request, job_id: str):
    return schemas.job_out(_job(request.auth, job_id), events=True)


@api.post(
    "/jobs/{job_id}/cancel", auth=WRITE, response={200: schemas.CancelOut, **ERRORS}, tags=["jobs"], summary="Cancel"
)
def cancel_job(request, job_id: str):
    """Stop a job that has not started rendering; its held credits return to the workspace."""
    access: TokenAccess = request.auth
    job = _job(access, job_id)
    outcome = request_cancel(job, actor=f"user:{access.user.pk}")
    if outcome != CancelOutcome.CANCELLED:
        raise ApiError(409, "not_cancellable", outcome.message)
    job = _job(access, job_id)
    return schemas.CancelOut(outcome=outcome.value, message=outcome.message, job=schemas.job_out(job))


@api.get(
    "/jobs/{job_id}/download",
    response={200: schemas.DownloadOut, **ERRORS},
    tags=["jobs"],
    summary="A signed link to the output",
)
def download_job(request, job_id: str):
    """A link that works without the token for ``API_LINK_MAX_AGE_SECONDS`` and dies when
    the output is withdrawn (consent rejected) or the token's member leaves."""
    access: TokenAccess = request.auth
    job = _job(access, job_id)
    if job.status != Status.SUCCEEDED or job.output is None:
        raise ApiError(409, "not_delivered", "This job has no output to download.")
    return schemas.DownloadOut(
        # Absolute, at the address the client reached us by: it has no page to resolve it against.
        url=request.build_absolute_uri(links.api_url(job.output, user_id=access.user.pk)),
        expires_at=timezone.now() + timedelta(seconds=settings.API_LINK_MAX_AGE_SECONDS),
        name=job.output.display_name,
        size_bytes=job.output.size_bytes,
    )


# --- Credits -------------------------------------------------------------------------------------
@api.get("/balance", response={200: schemas.BalanceOut, **ERRORS}, tags=["credits"], summary="What may be spent")
def balance(request):
    """The workspace's balance, what is held by jobs in flight, and what the token's member
    may still spend this month under their cap."""
    access: TokenAccess = request.auth
    return schemas.BalanceOut(**spendable(access.workspace, access.user))


@api.get("/ledger", response={200: schemas.LedgerPage, **ERRORS}, tags=["credits"], summary="The credit ledger")
def ledger(request, before: int | None = None, limit: int = 50):
    access: TokenAccess = request.auth
    limit = max(1, min(limit, 200))
    entries = entries_for(access.workspace).order_by("-id")
    if before:
        entries = entries.filter(id__lt=before)
    rows = list(entries[: limit + 1])
    return schemas.LedgerPage(
        entries=[
            schemas.LedgerEntryOut(
                id=entry.pk,
                at=entry.created_at,
                kind=entry.kind,
                amount=entry.amount,
                reason=entry.reason,
                reference=entry.reference,
                member=entry.member.get_username() if entry.member else None,
            )
            for entry in rows[:limit]
        ],
        next_before=rows[limit - 1].pk if len(rows) > limit else None,
    )
