"""Creating jobs: checked uploads, consent recorded, credits held, in one transaction.

Also the new-job form's read side: which routes fit the probed inputs (and why not),
and what each would cost, so the user sees it before any credit is held.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django_q.tasks import async_task

from lipsync_site.consent.services import record_attestation, review_required_before_running
from lipsync_site.credits.services import place_hold
from lipsync_site.jobs.models import Job, Status
from lipsync_site.media.models import Asset
from lipsync_site.media.preflight import durations_differ
from lipsync_site.media.prepare import prepare_voice
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.render import output_seconds
from lipsync_site.media.services import discard_new_files, store_upload
from lipsync_site.providers import catalog
from lipsync_site.providers.catalog import InputShape, Route, get_route, is_simulated

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on our side while processing this job. Your credits were returned."

MISMATCH_MODES = ("cut_off", "loop", "bounce", "silence", "remap")

# The inputs each shape needs ("video", "image", "audio", "text"); the catalog's own
# table wins when it has one.
_SHAPE_INPUTS = {
    InputShape.VIDEO_AUDIO: ("video", "audio"),
    InputShape.PORTRAIT_AUDIO: ("image", "audio"),
    InputShape.VIDEO_SCRIPT: ("video", "text"),
    InputShape.SCRIPT: ("text",),
}
# Shapes that take a voice track when there is one without needing it.
OPTIONAL_AUDIO_SHAPES = {InputShape.SCRIPT}
# Shapes whose picture can be shared by several voices in one submission.
BATCH_SHAPES = {InputShape.VIDEO_AUDIO, InputShape.PORTRAIT_AUDIO}


def shape_inputs(shape: str) -> tuple[str, ...]:
    table = getattr(catalog, "SHAPE_INPUTS", _SHAPE_INPUTS)
    return tuple(table.get(shape, _SHAPE_INPUTS.get(shape, ())))


@dataclass
class Consent:
    likeness_consent: bool
    voice_provenance: str
    person_name: str
    speaker_name: str = ""
    public_figure: bool = False
    no_misuse: bool = True
    evidence: Asset | None = None
    ip_address: str | None = None
    user_agent: str = ""


@dataclass
class JobInputs:
    shape: str
    route_id: str
    source_video: object = None  # UploadedFile or Asset
    portrait: object = None
    voice: object = None
    script: str = ""
    prompt: str = ""
    mismatch_mode: str = "cut_off"
    options: dict = field(default_factory=dict)


# --- Route fit and cost -----------------------------------------------------------------


def probe_facts(
    *, video: Asset | None, portrait: Asset | None, voice: Asset | None, text: str = "", seconds: float | None = None
) -> dict:
    """The facts a route's limits are checked against (the router's ProbeFacts keys)."""
    picture = video or portrait
    facts = {
        "video_seconds": video.duration_seconds if video else None,
        "audio_seconds": voice.duration_seconds if voice else None,
        "width": picture.width if picture else None,
        "height": picture.height if picture else None,
        "video_bytes": video.size_bytes if video else None,
        "image_bytes": portrait.size_bytes if portrait else None,
        "audio_bytes": voice.size_bytes if voice else None,
        "text_chars": len(text) if text else None,
        "output_seconds": seconds,
    }
    return {key: value for key, value in facts.items() if value is not None}


def route_fit_problems(route: Route, facts: dict) -> list[str]:
    """Why ``route`` cannot take these inputs (empty when it can).

    The one place route limits are judged: the providers' router when it is there,
    else the same rules over the Route fields this catalog has.
    """
    try:
        from lipsync_site.providers.router import fit_problems
    except ImportError:
        return _fit_problems_from_fields(route, facts)
    return fit_problems(route, facts)


def _fit_problems_from_fields(route: Route, facts: dict) -> list[str]:
    problems = []
    driving = facts.get("audio_seconds", facts.get("video_seconds"))
    if driving is not None and driving > route.max_duration_seconds:
        problems.append(f"{route.label} takes up to {route.max_duration_seconds:g} seconds; yours is {driving:.1f}.")
    if driving is not None and driving < route.min_duration_seconds:
        problems.append(f"{route.label} needs at least {route.min_duration_seconds:g} seconds; yours is {driving:.1f}.")
    for key, what in (("video_bytes", "video"), ("image_bytes", "image"), ("audio_bytes", "voice")):
        cap = route.limits.get(f"max_{what}_bytes", route.max_input_bytes)
        size = facts.get(key)
        if size is not None and cap is not None and size > cap:
            problems.append(f"{route.label} takes {what} files up to {cap / 1024**2:.0f} MB.")
    max_text = getattr(route, "max_text_chars", None) or route.limits.get("max_text_chars")
    if facts.get("text_chars") and max_text and facts["text_chars"] > max_text:
        problems.append(f"{route.label} takes scripts up to {max_text} characters; yours has {facts['text_chars']}.")
    min_side = getattr(route, "min_side_px", None) or route.limits.get("min_side_px")
    max_side = getattr(route, "max_side_px", None) or route.limits.get("max_side_px")
    if facts.get("width") and facts.get("height"):
        short, long = sorted((facts["width"], facts["height"]))
        if min_side and short < min_side:
            problems.append(f"{route.label} needs a picture of at least {min_side} px on its short side.")
        if max_side and long > max_side:
            problems.append(f"{route.label} takes pictures up to {max_side} px on the long side.")
    return problems


def preparable_modes(video: Asset | None, voice: Asset | None) -> set[str]:
    """Mismatch modes we can honour ourselves by preparing the voice before submitting
    (trim it to the video, or pad it with silence), for routes that cannot do them."""
    if video is None or voice is None or not durations_differ(video.duration_seconds, voice.duration_seconds):
        return set(MISMATCH_MODES)  # nothing to fit: every mode gives the same result
    if (voice.duration_seconds or 0) > (video.duration_seconds or 0):
        return {"cut_off"}
    return {"silence"}


def mode_problem(route: Route, *, video: Asset | None, voice: Asset | None, mode: str) -> str:
    if video is None or voice is None or mode in route.mismatch_modes or mode in preparable_modes(video, voice):
        return ""
    doable = sorted(set(route.mismatch_modes) | preparable_modes(video, voice))
    return f"{route.label} cannot {mode.replace('_', ' ')} these lengths; choose {' or '.join(doable)}."


def needs_preparation(route: Route, *, video: Asset | None, voice: Asset | None, mode: str) -> bool:
    return (
        video is not None
        and voice is not None
        and durations_differ(video.duration_seconds, voice.duration_seconds)
        and mode not in route.mismatch_modes
    )


def estimate_seconds(
    *, shape: str, video: Asset | None, voice: Asset | None, mismatch_mode: str, options: dict, route=None
) -> float:
    """The output length the price is based on, from the probed inputs."""
    seconds_range = getattr(route, "output_seconds_range", None)
    if seconds_range is not None:
        low, high = seconds_range
        return float(min(high, max(low, float(options.get("duration") or low))))
    if shape in (InputShape.VIDEO_AUDIO,) and video and voice:
        return output_seconds(video.duration_seconds or 0.0, voice.duration_seconds or 0.0, mismatch_mode)
    if voice is not None and voice.duration_seconds:
        return voice.duration_seconds
    if video is not None and video.duration_seconds:
        return video.duration_seconds
    return float(options.get("duration", 5))


@dataclass(frozen=True)
class RouteOffer:
    """A route of the chosen shape, for these inputs: its cost, or why it is not offered."""

    route: Route
    problems: tuple[str, ...]
    credits: int  # for the whole submission (every voice)
    seconds: tuple[float, ...]  # output length per job

    @property
    def fits(self) -> bool:
        return not self.problems

    @property
    def credits_each(self) -> tuple[int, ...]:
        return tuple(self.route.estimate_credits(seconds) for seconds in self.seconds)

    @property
    def simulated(self) -> bool:
        """No key for this provider: the route runs against the loopback simulator."""
        return is_simulated(self.route)


def offer_routes(
    *,
    shape: str,
    video: Asset | None,
    portrait: Asset | None,
    voices: list[Asset],
    text: str = "",
    mismatch_mode: str = "cut_off",
    options: dict | None = None,
) -> list[RouteOffer]:
    """Every route for the shape with its cost for these inputs, or why it does not fit."""
    options = options or {}
    offers = []
    for route in catalog.routes_for_shape(shape):
        problems: list[str] = []
        seconds_each = []
        for voice in voices or [None]:
            seconds = estimate_seconds(
                shape=shape, video=video, voice=voice, mismatch_mode=mismatch_mode, options=options, route=route
            )
            seconds_each.append(seconds)
            facts = probe_facts(video=video, portrait=portrait, voice=voice, text=text, seconds=seconds)
            for problem in [
                *route_fit_problems(route, facts),
                mode_problem(route, video=video, voice=voice, mode=mismatch_mode),
            ]:
                if problem and problem not in problems:
                    problems.append(problem)
        total = sum(route.estimate_credits(seconds) for seconds in seconds_each)
        offers.append(RouteOffer(route, tuple(problems), total, tuple(seconds_each)))
    return offers


@dataclass(frozen=True)
class Suggestion:
    route: Route
    reason: str


def suggest_route(offers: list[RouteOffer], *, shape: str, facts: dict, budget: int | None) -> Suggestion | None:
    """The route the form preselects among those that fit.

    The providers' router names the seed's default for the shape when it is there (and
    it fits and is affordable); otherwise the first affordable route in catalog order,
    otherwise the cheapest that fits, so the form can say what it would cost.
    """
    fitting = [offer for offer in offers if offer.fits]
    if not fitting:
        return None
    affordable = [offer for offer in fitting if budget is None or offer.credits <= budget]
    try:
        from lipsync_site.providers.router import choose_route
    except ImportError:
        choose_route = None
    if choose_route is not None and affordable:
        choice = choose_route(shape, facts=facts)
        if choice.route is not None and any(offer.route.id == choice.route.id for offer in affordable):
            # The router's reason may go on about the routes it passed over; the form
            # lists those with their own reasons, so keep the first sentence's worth.
            reason = choice.reason.split(" Not picked: ")[0].split(" Skipped ")[0]
            return Suggestion(choice.route, reason)
    offer = affordable[0] if affordable else min(fitting, key=lambda offer: offer.credits)
    return Suggestion(offer.route, offer.route.pick_for)


# --- Creation ---------------------------------------------------------------------------


def _store(owner, item, kind: str, stored: list) -> Asset | None:
    if item is None or isinstance(item, Asset):
        return item
    asset = store_upload(owner=owner, upload=item, kind=kind)
    stored.append(asset)
    return asset


def _check_fit(route: Route, *, shape, video, portrait, voice, inputs: JobInputs) -> float:
    seconds = estimate_seconds(
        shape=shape, video=video, voice=voice, mismatch_mode=inputs.mismatch_mode, options=inputs.options, route=route
    )
    if shape not in route.shapes:
        raise MediaRejected(f"{route.label} does not take this kind of input.")
    text = inputs.script or inputs.prompt
    facts = probe_facts(video=video, portrait=portrait, voice=voice, text=text, seconds=seconds)
    problems = [
        *route_fit_problems(route, facts),
        mode_problem(route, video=video, voice=voice, mode=inputs.mismatch_mode),
    ]
    problems = [problem for problem in problems if problem]
    if seconds > route.max_duration_seconds and not problems:
        problems.append(
            f"The output would last {seconds:.0f} s; {route.label} takes at most {route.max_duration_seconds:.0f} s."
        )
    if problems:
        raise MediaRejected(" ".join(problems))
    return seconds


def _create_one(
    *, owner, route: Route, inputs: JobInputs, video, portrait, voice, consent: Consent, seconds: float, batch
) -> Job:
    """One attestation, one hold, one job and its first event. Runs inside the caller's
    transaction."""
    cost = route.estimate_credits(seconds)
    covered = [asset.sha256 for asset in (video, portrait, voice, *getattr(voice, "prepared_from", ())) if asset]
    attestation = record_attestation(
        user=owner,
        likeness_consent=consent.likeness_consent,
        voice_provenance=consent.voice_provenance,
        person_name=consent.person_name,
        speaker_name=consent.speaker_name,
        public_figure=consent.public_figure,
        no_misuse=consent.no_misuse,
        evidence=consent.evidence,
        media_sha256=covered,
        ip_address=consent.ip_address,
        user_agent=consent.user_agent,
    )
    options = dict(inputs.options)
    if getattr(voice, "prepared_from", None):
        options["prepared_voice_from"] = str(voice.prepared_from[0].pk)
    job = Job(
        owner=owner,
        batch=batch,
        shape=inputs.shape,
        route_id=route.id,
        provider=route.provider,
        source_video=video,
        portrait=portrait,
        voice=voice,
        script=inputs.script,
        prompt=inputs.prompt,
        mismatch_mode=inputs.mismatch_mode,
        options=options,
        attestation=attestation,
        estimated_seconds=seconds,
        estimated_credits=cost,
        poster=(video.poster if video else None) or portrait,
        title=_title(video, portrait, voice, inputs),
    )
    job.hold = place_hold(user=owner, amount=cost, reference=str(job.id), reason=f"{route.label}, {seconds:.1f} s")
    waits = review_required_before_running(attestation)
    job.status = Status.AWAITING_REVIEW if waits else Status.QUEUED
    job.save(force_insert=True)
    job.events.create(
        from_status="",
        to_status=job.status,
        actor=f"user:{owner.pk}",
        message=(
            f"Created on {route.label}; {cost} credits held."
            + (" Waiting for a moderator to review consent." if waits else "")
        ),
    )
    if not waits:
        enqueue_submit(job)
    return job


def _prepared_voice(route: Route, *, video, voice, inputs: JobInputs, stored: list) -> Asset | None:
    """The voice as the route will receive it: trimmed or padded by us when the route
    cannot fit the lengths itself in the chosen mode."""
    if not needs_preparation(route, video=video, voice=voice, mode=inputs.mismatch_mode):
        return voice
    prepared = prepare_voice(voice=voice, target_seconds=video.duration_seconds)
    prepared.prepared_from = (voice,)
    stored.append(prepared)
    return prepared


def _title(video, portrait, voice, inputs: JobInputs) -> str:
    picture = video or portrait
    if picture and voice:
        return f"{picture.display_name} + {voice.display_name}"[:200]
    if picture or voice:
        return (picture or voice).display_name
    return (inputs.script or inputs.prompt)[:60]


def create_job(*, owner, inputs: JobInputs, consent: Consent) -> Job:
    """Store the uploads, record the attestation, hold the credits and create the job.

    The attestation, hold, job and first event are one transaction; the submit task is
    enqueued when it commits. If anything fails, files stored for this request are
    removed again, so a refused request leaves nothing behind.
    Raises MediaRejected, InsufficientCredits, ConsentMissing.
    """
    route = get_route(inputs.route_id)
    stored: list[Asset] = []
    try:
        video = _store(owner, inputs.source_video, "video", stored)
        portrait = _store(owner, inputs.portrait, "image", stored)
        voice = _store(owner, inputs.voice, "audio", stored)
        seconds = _check_fit(route, shape=inputs.shape, video=video, portrait=portrait, voice=voice, inputs=inputs)
        voice = _prepared_voice(route, video=video, voice=voice, inputs=inputs, stored=stored)
        with transaction.atomic():
            job = _create_one(
                owner=owner,
                route=route,
                inputs=inputs,
                video=video,
                portrait=portrait,
                voice=voice,
                consent=consent,
                seconds=seconds,
                batch=None,
            )
    except BaseException:
        _forget(stored)
        raise
    return job


def create_jobs_batch(*, owner, inputs: JobInputs, voices: list[Asset], consents: list[Consent]) -> list[Job]:
    """One picture, several voices (the multi-language launch): one job per voice.

    Each job has its own hold and its own attestation covering the picture and that
    voice; all share a batch id and are queued in the order given (created_at follows
    it). All or nothing: if one hold cannot be placed, no job is created.
    Raises MediaRejected, InsufficientCredits, ConsentMissing.
    """
    if not voices or len(voices) != len(consents):
        raise ValueError("one consent per voice")
    if inputs.shape not in BATCH_SHAPES and len(voices) > 1:
        raise MediaRejected("Several voices can only be combined with one video or one portrait.")
    route = get_route(inputs.route_id)
    stored: list[Asset] = []
    try:
        video = _store(owner, inputs.source_video, "video", stored)
        portrait = _store(owner, inputs.portrait, "image", stored)
        plans = [
            (
                voice,
                consent,
                _check_fit(route, shape=inputs.shape, video=video, portrait=portrait, voice=voice, inputs=inputs),
            )
            for voice, consent in zip(voices, consents, strict=True)
        ]
        plans = [
            (_prepared_voice(route, video=video, voice=voice, inputs=inputs, stored=stored), consent, seconds)
            for voice, consent, seconds in plans
        ]
        batch = uuid.uuid4() if len(voices) > 1 else None
        with transaction.atomic():
            jobs = [
                _create_one(
                    owner=owner,
                    route=route,
                    inputs=inputs,
                    video=video,
                    portrait=portrait,
                    voice=voice,
                    consent=consent,
                    seconds=seconds,
                    batch=batch,
                )
                for voice, consent, seconds in plans
            ]
    except BaseException:
        _forget(stored)
        raise
    return jobs


def _forget(stored: list[Asset]) -> None:
    discard_new_files(stored)
    for asset in stored:
        if getattr(asset, "newly_stored", False):
            Asset.objects.filter(pk=asset.pk).delete()


def enqueue_submit(job: Job) -> None:
    job_id = str(job.id)
    transaction.on_commit(
        lambda: async_task("lipsync_site.jobs.tasks.submit_job", job_id, task_name=f"submit {job_id}")
    )
