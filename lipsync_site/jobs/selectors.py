"""What the jobs' pages show: reads only, no state changes.

``jobs_for(user)`` is the one place that decides which jobs a user may see (those of every
workspace they belong to); ``workspace_history`` narrows it to the workspace they work in.
Every view and selector starts from one of these.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lipsync_site.consent.models import Decision, review_state_label
from lipsync_site.credits.selectors import spendable
from lipsync_site.durations import seconds_words
from lipsync_site.jobs.models import ACTIVE, TERMINAL, Job, OutputReview, Status
from lipsync_site.jobs.quote import BATCH_SHAPES, quote
from lipsync_site.jobs.workflow.policy import CANCELLABLE_STATES
from lipsync_site.media import links
from lipsync_site.media.intake import Intake
from lipsync_site.media.models import Asset
from lipsync_site.media.preflight import run_checks
from lipsync_site.media.selectors import speaker_faces
from lipsync_site.providers.catalog import catalog_route
from lipsync_site.providers.speech import language_name, script_language
from lipsync_site.workspaces.models import Membership

HISTORY_PAGE_SIZE = 20
# A filtered history says how many jobs match, counting no further than this.
COUNT_CAP = 1000
COMPARE_MAX = 4


def jobs_for(user):
    """The jobs ``user`` may see: those of every workspace they are a member of (one join,
    no separate membership query). Every job view starts from here or from
    ``workspace_history``; what a role may *do* is checked by the view."""
    if user is None or not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(workspace__memberships__user=user)


def workspace_history(workspace):
    """The workspace's jobs: every member's, with who made each."""
    return Job.objects.filter(workspace=workspace)


def route_label(route_id: str) -> str:
    """A route's name for people, from the catalog (pure data: no query)."""
    try:
        return catalog_route(route_id).label
    except LookupError:
        return route_id


def drift_words(drift: float | None) -> str:
    """The output's length against the voice's, in words, with what to do about it."""
    if drift is None or abs(drift) < 0.1:
        return ""
    if drift < 0:
        return _(
            "The video ends %(seconds)s before the voice does, so the end of the voice is cut. "
            "To keep all of it, run again with “Loop” or “Add silence”."
        ) % {"seconds": seconds_words(abs(drift), 1)}
    return _(
        "The video runs %(seconds)s past the end of the voice. To end with the voice, run again with “Cut off”."
    ) % {"seconds": seconds_words(drift, 1)}


def job_page_context(job: Job, user, *, can_act: bool = True, can_review: bool = True) -> dict:
    """Everything the job page shows around its status partial. ``can_act``: the viewer's
    role may cancel and run again; ``can_review``: may mark the output (a viewer only
    watches, downloads and comments). Links are made for ``user``, a member of the job's
    workspace."""
    decision = job.attestation.latest_decision
    context = status_context(job, user, can_act=can_act)
    context.update(
        {
            "route_name": route_label(job.route_id),
            "review_state": decision.outcome if decision else "pending",
            "review_state_label": review_state_label(decision.outcome if decision else "pending"),
            "rejection": decision.reason if decision is not None and decision.outcome == "rejected" else None,
            "reviews": list(job.reviews.select_related("author")[:20]),
            "poster_url": _poster_url(job, user),
            "can_act": can_act,
            "can_review": can_review,
            "created_by_someone_else": job.owner_id != user.pk,
        }
    )
    return context


def _poster_url(job: Job, user) -> str:
    if job.poster_id is None or job.status in (Status.REJECTED, Status.REVOKED):
        return ""
    generation = Asset.objects.filter(pk=job.poster_id).values_list("link_generation", flat=True).first()
    if generation is None:
        return ""
    return links.user_url_by_id(job.poster_id, generation, links.Purpose.VIEW, user=user)


# --- The polled status partial: the hottest path (one request every 2 s per open page) ---
STATUS_FIELDS = (
    "id",
    "workspace_id",
    "status",
    "progress",
    "queue_position",
    "created_at",
    "started_at",
    "updated_at",
)


def _status_query(job_id, user_id):
    role = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user_id=user_id).values("role")[:1]
    return Job.objects.filter(pk=job_id).only(*STATUS_FIELDS).annotate(member_role=Subquery(role))


@functools.cache
def _status_sql(vendor: str) -> tuple[str, tuple[int, ...]]:
    """The snapshot's SQL, compiled once per process and database: on a path polled every
    2 s by every open job page, building the query costs more than running it. Compiled with
    two marker values; the answer says where the job id and the user id go among its
    parameters."""
    job_marker, user_marker = uuid.UUID(int=0x5EED), -0x5EED
    sql, params = _status_query(job_marker, user_marker).query.sql_with_params()
    markers = {str(job_marker): 0, job_marker.hex: 0, str(user_marker): 1}
    order = tuple(markers[str(param)] for param in params)
    return sql, order


def status_snapshot(job_id, user) -> Job | None:
    """The few columns the in-flight status partial shows and ``member_role``, the user's
    role in the job's workspace (None for an outsider): one query by primary key, the role
    from an indexed subquery. The caller checks the role (``require_role``)."""
    job_id = uuid.UUID(str(job_id))  # a malformed id raises ValueError
    sql, order = _status_sql(connection.vendor)
    values = (Job._meta.pk.get_db_prep_value(job_id, connection), user.pk)
    found = list(Job.objects.raw(sql, [values[index] for index in order]))
    return found[0] if found else None


def status_etag(job: Job) -> str:
    """Changes when anything the partial shows changes (the elapsed time is counted in the
    browser from ``created_at``, so the body is stable between changes)."""
    stamp = f"{job.status}|{job.progress:.4f}|{job.queue_position}|{job.updated_at.isoformat()}"
    return '"' + hashlib.blake2b(stamp.encode(), digest_size=12).hexdigest() + '"'


def finished_job(user, job_id) -> Job | None:
    """A finished job with what its final status shows (rendered once: polling stops)."""
    return jobs_for(user).select_related("output", "poster", "hold").filter(pk=job_id).first()


@functools.lru_cache(maxsize=4096)
def _in_flight_urls(script_prefix: str, job_id) -> tuple[str, str]:
    """The poll's and the cancel button's URLs of a job (reversing costs more than the
    rest of the poll's rendering; a job page polls the same ones every 2 s)."""
    return reverse("jobs:status", args=[job_id]), reverse("jobs:cancel", args=[job_id])


def in_flight_words(job: Job, progress_percent: int) -> dict:
    """What the in-flight status shows, as ready-made strings: the poll renders it every
    2 s per open page, so the template (``jobs/partials/status_in_flight.html``) only
    places them, without reversing URLs, formatting dates or localizing numbers itself."""
    created = timezone.localtime(job.created_at)
    status_url, cancel_url = _in_flight_urls(get_script_prefix(), job.id)
    if job.status == Status.AWAITING_REVIEW:
        where = _("A moderator reviews the consent before the job runs.")
    elif job.status == Status.QUEUED:
        where = _("Waiting to start: a few of your jobs run at once, the rest follow in order.")
    elif job.queue_position is not None:
        where = _("Position %(position)s in the provider’s queue.") % {"position": job.queue_position}
    else:
        where = _("%(percent)s%% done.") % {"percent": progress_percent}
    return {
        "status_url": status_url,
        "cancel_url": cancel_url,
        "label": str(Status(job.status).label),
        "since": created.isoformat(),
        "started": created.strftime("%H:%M:%S"),
        "percent": str(progress_percent),
        "where": where,
    }


def status_context(job: Job, user, *, can_act: bool = True, etag: str | None = None) -> dict:
    """What the status partial shows. In flight: the snapshot's columns only. Finished: the
    player, the output check and the credits (``job`` from ``finished_job``). ``etag``: the
    poll's, when it has already made it."""
    in_flight = job.status not in TERMINAL
    context = {
        "job": job,
        "progress_percent": round((job.progress or 0) * 100),
        "can_cancel": can_act and job.status in CANCELLABLE_STATES,
        "etag": (etag or status_etag(job)) if in_flight else "",
    }
    if in_flight:
        context["in_flight"] = in_flight_words(job, context["progress_percent"])
    if job.status == Status.SUCCEEDED and job.output_id:
        context["player_url"] = links.user_url(job.output, links.Purpose.VIEW, user=user)
        context["download_url"] = links.user_url(job.output, links.Purpose.DOWNLOAD, user=user)
        if job.poster_id:
            context["player_poster_url"] = links.user_url(job.poster, links.Purpose.VIEW, user=user)
        context["drift_words"] = drift_words(job.duration_drift_seconds)
    return context


# --- History ----------------------------------------------------------------------------
HISTORY_FIELDS = (
    "id",
    "title",
    "status",
    "shape",
    "route_id",
    "simulated",
    "verdict",
    "created_at",
    "estimated_seconds",
    "estimated_credits",
    "charged_credits",
    "poster_id",
    "hold_id",
    "hold__status",
    "owner_id",
    "owner__username",
    # The output check, in words on each row.
    "lipsync_score",
    "mouth_moving",
    "lipsync_offset_ms",
    "duration_drift_seconds",
    "lipsync_details",
)

STATE_FILTERS = {
    "in_progress": list(ACTIVE),
    Status.SUCCEEDED.value: [Status.SUCCEEDED],
    Status.FAILED.value: [Status.FAILED],
    Status.CANCELLED.value: [Status.CANCELLED],
    "rejected": [Status.REJECTED, Status.REVOKED],
}


@dataclass(frozen=True)
class HistoryQuery:
    """History's filters, as the URL carries them (see forms.HistoryFilterForm)."""

    q: str = ""
    state: str = ""
    route: str = ""
    shape: str = ""
    verdict: str = ""
    since: object = None  # date
    until: object = None  # date

    @property
    def filtered(self) -> bool:
        return any((self.q, self.state, self.route, self.shape, self.verdict, self.since, self.until))


@dataclass
class HistoryPage:
    rows: list
    newer: str = ""  # cursor of the page before (newer jobs), "" on the first
    older: str = ""  # cursor of the page after (older jobs), "" on the last
    at_start: bool = True
    at_end: bool = True
    matching: int | None = None  # jobs matching the filters, up to COUNT_CAP (None: unfiltered)
    in_flight: list = field(default_factory=list)

    @property
    def capped(self) -> bool:
        return self.matching is not None and self.matching > COUNT_CAP


def cursor_of(job) -> str:
    micros = int(job.created_at.timestamp() * 1_000_000)
    return f"{micros}.{job.id.hex}"


def _parse_cursor(value: str):
    try:
        micros, hex_id = value.split(".", 1)
        created = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        return created, uuid.UUID(hex=hex_id)
    except (ValueError, TypeError, OverflowError, OSError):
        return None


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered_jobs(workspace, query: HistoryQuery):
    jobs = workspace_history(workspace)
    for word in query.q.lower().split()[:8]:
        # search_text is lower-cased: a plain LIKE, which PostgreSQL's trigram index serves.
        jobs = jobs.filter(search_text__contains=word)
    if query.state in STATE_FILTERS:
        jobs = jobs.filter(status__in=STATE_FILTERS[query.state])
    if query.route:
        jobs = jobs.filter(route_id=query.route)
    if query.shape:
        jobs = jobs.filter(shape=query.shape)
    if query.verdict == "none":
        jobs = jobs.filter(status=Status.SUCCEEDED, verdict="")
    elif query.verdict:
        jobs = jobs.filter(verdict=query.verdict)
    if query.since:
        jobs = jobs.filter(created_at__gte=_day_start(query.since))
    if query.until:
        jobs = jobs.filter(created_at__lt=_day_start(query.until + timedelta(days=1)))
    return jobs


def _rows(jobs, user):
    """History rows: only the shown columns, with what the row's poster link needs."""
    rejected = Decision.objects.filter(attestation_id=OuterRef("attestation_id"), outcome=Decision.Outcome.REJECTED)
    return (
        jobs.select_related("hold", "owner")
        .only(*HISTORY_FIELDS)
        .annotate(poster_generation=F("poster__link_generation"), consent_rejected=Exists(rejected))
    )


def _decorate(rows, user) -> list:
    for job in rows:
        job.route_name = route_label(job.route_id)
        job.in_flight = job.status not in TERMINAL
        withdrawn = job.consent_rejected or job.status in (Status.REJECTED, Status.REVOKED)
        job.poster_url = (
            links.user_url_by_id(job.poster_id, job.poster_generation, links.Purpose.VIEW, user=user)
            if job.poster_id and job.poster_generation is not None and not withdrawn
            else ""
        )
    return rows


def history_page(
    workspace, user, query: HistoryQuery, *, before: str = "", after: str = "", oldest: bool = False
) -> HistoryPage:
    """One page of the workspace's history, newest first, paged by keyset on (created_at,
    id): the same index range scan for the first page, the last page and every page between.
    Links on the page are made for ``user``."""
    jobs = filtered_jobs(workspace, query)
    size = HISTORY_PAGE_SIZE
    newest_first = ("-created_at", "-id")
    position = _parse_cursor(before or after)
    if oldest:
        rows = list(_rows(jobs, user).order_by("created_at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        page = HistoryPage(rows, at_start=not more_newer, at_end=True)
    elif after and position:
        created, pk = position
        newer = jobs.filter(Q(created_at__gte=created) & (Q(created_at__gt=created) | Q(id__gt=pk)))
        rows = list(_rows(newer, user).order_by("created_at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        page = HistoryPage(rows, at_start=not more_newer, at_end=False)
    else:
        if before and position:
            created, pk = position
            jobs = jobs.filter(Q(created_at__lte=created) & (Q(created_at__lt=created) | Q(id__lt=pk)))
        rows = list(_rows(jobs, user).order_by(*newest_first)[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        page = HistoryPage(rows, at_start=not (before and position), at_end=not more_older)
    if page.rows:
        page.newer = "" if page.at_start else cursor_of(page.rows[0])
        page.older = "" if page.at_end else cursor_of(page.rows[-1])
    if query.filtered:
        page.matching = filtered_jobs(workspace, query).order_by()[: COUNT_CAP + 1].count()
    _decorate(page.rows, user)
    page.in_flight = [job for job in page.rows if job.in_flight]
    return page


def history_rows(workspace, user, ids) -> list:
    """The rows of these jobs (history's live update of the rows in flight on screen)."""
    valid = []
    for value in list(ids)[:HISTORY_PAGE_SIZE]:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    rows = list(_rows(workspace_history(workspace).filter(pk__in=valid), user).order_by("-created_at", "-id"))
    return _decorate(rows, user)


# --- Compare ----------------------------------------------------------------------------
def compared_jobs(user, ids) -> list[Job]:
    """Up to four delivered outputs the user may see, in the order asked."""
    wanted = []
    for value in ids:
        try:
            pk = uuid.UUID(str(value))
        except ValueError:
            continue
        if pk not in wanted:
            wanted.append(pk)
    wanted = wanted[:COMPARE_MAX]
    found = {
        job.pk: job
        for job in jobs_for(user)
        .filter(pk__in=wanted, status=Status.SUCCEEDED, output__isnull=False)
        .select_related("output", "poster", "hold")
    }
    jobs = [found[pk] for pk in wanted if pk in found]
    for job in jobs:
        job.route_name = route_label(job.route_id)
        job.player_url = links.user_url(job.output, links.Purpose.VIEW, user=user)
        job.player_poster_url = links.user_url(job.poster, links.Purpose.VIEW, user=user) if job.poster_id else ""
        job.drift_words = drift_words(job.duration_drift_seconds)
    return jobs


def latest_reviews(jobs) -> dict:
    """The latest review mark (with its author) of each job, by job id."""
    latest = {}
    for review in OutputReview.objects.filter(job__in=jobs).select_related("author").order_by("job_id", "-created_at"):
        latest.setdefault(review.job_id, review)
    return latest


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def new_job_context(workspace, user, form, intake: Intake) -> dict:
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
    balance = spendable(workspace, user)
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
        budget=balance["budget"],
    )
    blocks = [check for check in checks if check.blocks]
    speaker_chosen = _int(data.get("speaker")) if speakers else None
    if speaker_chosen not in {face.index for face in speakers}:
        speaker_chosen = None
    _add_previews(user, video=video, portrait=portrait, voices=voices)
    limit = script_limit(form.routes)
    return {
        "upload_max_bytes": settings.MEDIA_UPLOAD_MAX_BYTES,
        "lengths": _lengths(video, voices),
        "script_limit": limit,
        "script_length": len(script),
        "script_language": language_name(script_language(script)) if script_language(script) else "",
        "start_blocker": _start_blocker(
            form, ready=ready, offer=offer, blocks=blocks, speaker_missing=bool(speakers) and not speaker_chosen
        ),
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
        "can_start": ready and offer.chosen is not None and not blocks and not (speakers and not speaker_chosen),
        "balance": balance,
        # For the speaker choice: the faces (index; x, y, width, height in the poster's
        # pixels; percent for CSS outlines) and the poster they are drawn on.
        "speakers": speakers,
        "speaker_poster_url": (
            links.user_url(speaker_poster, links.Purpose.VIEW, user=user) if speaker_poster is not None else ""
        ),
        "speaker_chosen": speaker_chosen,
    }


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- Run again --------------------------------------------------------------------------
def rerun_of(workspace, job_id) -> tuple[dict, Intake] | None:
    """The form's answers and media for running ``job_id`` (any member's job of the
    workspace) again: the same picture, voice, script, route and length mode, and the
    consent names as given. The consent boxes are left unticked: the person who runs it
    again attests consent themselves, with the wording shown again."""
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        return None
    job = (
        workspace_history(workspace)
        .select_related("source_video", "portrait", "voice", "attestation")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        return None
    voice = job.voice
    original = (job.options or {}).get("prepared_voice_from")
    if voice is not None and voice.origin != Asset.Origin.UPLOAD:
        # We trimmed or padded the voice for the route: start again from the user's file.
        voice = Asset.objects.filter(pk=original, workspace=workspace).first() if original else None
    attestation = job.attestation
    initial = {
        "shape": job.shape,
        "route": job.route_id,
        "mismatch_mode": job.mismatch_mode,
        "script": job.script or job.prompt,
        "duration": (job.options or {}).get("duration"),
        "person_name": attestation.person_name,
        "speaker_name": attestation.speaker_name,
        "voice_provenance": attestation.voice_provenance,
        "public_figure": "yes" if attestation.public_figure else "no",
        "rerun": str(job.pk),
    }
    intake = Intake(
        video=job.source_video,
        portrait=job.portrait,
        voices=[voice] if voice is not None else [],
        evidence=attestation.evidence,
    )
    return {key: value for key, value in initial.items() if value not in (None, "")}, intake


def script_limit(offered) -> dict | None:
    """The strictest script length among the routes offered, shown before any check."""
    limited = [route for route in offered if route.max_text_chars]
    if not limited:
        return None
    route = min(limited, key=lambda route: route.max_text_chars)
    return {"chars": route.max_text_chars, "label": route.label}


def _start_blocker(form, *, ready: bool, offer, blocks, speaker_missing: bool = False) -> str:
    """Why Start is not available yet, and what to do."""
    if offer.no_route:
        return offer.no_route
    if not ready:
        missing = []
        if form.wants_video:
            missing.append(_("a video"))
        if form.wants_portrait:
            missing.append(_("a portrait"))
        if form.wants_voice and not form.voice_optional:
            missing.append(_("a voice recording"))
        if form.wants_script:
            missing.append(_("your script"))
        return _("Add %(things)s: Start shows the cost once your media is checked.") % {
            "things": _(" and ").join(missing)
        }
    if blocks:
        return _("Fix what the media check blocks above (or confirm it), then start.")
    if speaker_missing:
        return _("Several people are in the picture: click the face of the one who speaks, then start.")
    return _("Choose a route above to see the cost.")


def _lengths(video, voices) -> list[dict]:
    """The video's and voices' lengths, as bars side by side (the form's preview)."""
    items = []
    if video is not None and video.duration_seconds:
        items.append({"kind": "video", "name": _("Video"), "seconds": video.duration_seconds})
    for index, voice in enumerate(voices, start=1):
        if voice.duration_seconds:
            name = _("Voice %(number)d") % {"number": index} if len(voices) > 1 else _("Voice")
            items.append({"kind": "voice", "name": name, "seconds": voice.duration_seconds})
    if len(items) < 2:
        return []
    longest = max(item["seconds"] for item in items)
    for item in items:
        item["percent"] = max(1, round(100 * item["seconds"] / longest))
    return items


def _add_previews(user, *, video, portrait, voices) -> None:
    """Previews as soon as a file is checked: the poster frame of a video, the portrait
    itself, a waveform of each voice (from intake's analysis)."""
    if video is not None:
        poster = video.poster
        video.preview_url = links.user_url(poster, links.Purpose.VIEW, user=user) if poster else ""
    if portrait is not None:
        portrait.preview_url = links.user_url(portrait, links.Purpose.VIEW, user=user)
    for voice in voices:
        bars = (voice.analysis or {}).get("waveform") or []
        voice.waveform_bars = [
            {"y": round(20 - 19 * value, 2), "h": round(max(0.5, 38 * value), 2)} for value in bars[:400]
        ]
