"""Creating jobs: checked uploads, consent recorded, credits held, in one transaction; and
the review marks a team puts on outputs.

What the form shows before that (routes, fit, cost) is the quote (``jobs.quote``); what
happens after (submit, poll, collect, settle) is the workflow (``jobs.workflow``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_noop

from lipsync_site.consent.services import record_attestation, review_required_before_running
from lipsync_site.credits.services import place_hold
from lipsync_site.jobs.models import EventKind, Job, OutputReview, Status, Verdict, search_text_for
from lipsync_site.jobs.quote import BATCH_SHAPES, fit_problems_for, needs_preparation
from lipsync_site.jobs.workflow.queue import Task, enqueue_after_commit
from lipsync_site.media.mismatch import MismatchMode
from lipsync_site.media.models import Asset
from lipsync_site.media.prepare import prepare_voice
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.render import remap_problem
from lipsync_site.media.selectors import speaker_box
from lipsync_site.media.services import discard_new_files, store_upload
from lipsync_site.providers.catalog import Route
from lipsync_site.providers.routes import get_route, is_simulated

logger = logging.getLogger(__name__)


@dataclass
class Consent:
    likeness_consent: bool
    voice_provenance: str
    person_name: str
    speaker_name: str = ""
    public_figure: bool = False
    # What the consent was about, for its wording (see consent.texts): the picture is a
    # "video", a "portrait" or "generated"; the voice a "recording" or "generated".
    picture: str = "video"
    voice: str = "recording"
    # The language the consent wording was shown in (consent.texts).
    language: str = "en"
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
    mismatch_mode: str = MismatchMode.CUT_OFF
    options: dict = field(default_factory=dict)


def _store(owner, workspace, item, kind: str, stored: list) -> Asset | None:
    if item is None:
        return None
    if isinstance(item, Asset):
        if item.workspace_id != workspace.pk:
            raise ValueError(f"asset {item.pk} belongs to another workspace")
        return item
    asset = store_upload(owner=owner, workspace=workspace, upload=item, kind=kind)
    stored.append(asset)
    return asset


def _check_fit(route: Route, *, shape, video, portrait, voice, inputs: JobInputs) -> float:
    """The output length to price, or MediaRejected with every reason the route cannot take it."""
    seconds, problems = fit_problems_for(
        route,
        shape=shape,
        video=video,
        portrait=portrait,
        voice=voice,
        text=inputs.script or inputs.prompt,
        mismatch_mode=inputs.mismatch_mode,
        options=inputs.options,
    )
    if inputs.mismatch_mode == MismatchMode.REMAP and video is not None and voice is not None:
        problems.append(remap_problem(video.duration_seconds or 0.0, voice.duration_seconds or 0.0))
    problems = [problem for problem in problems if problem]
    if problems:
        raise MediaRejected(" ".join(problems))
    return seconds


def _with_speaker(options: dict, picture: Asset | None) -> dict:
    """The job's options with the chosen speaker's face (``speaker``, the number the form
    showed) resolved to its box in the frame (``speaker_box``), which the provider and the
    output check use. Raises MediaRejected for a number that is not on the picture."""
    index = options.get("speaker")
    if index is None:
        return options
    box = speaker_box(picture, int(index)) if picture is not None else None
    if box is None:
        raise MediaRejected(f"There is no face {index} in the picture; choose one of the numbered faces.")
    return {**options, "speaker": int(index), "speaker_box": list(box)}


def _create_one(
    *,
    owner,
    workspace,
    route: Route,
    inputs: JobInputs,
    video,
    portrait,
    voice,
    consent: Consent,
    seconds: float,
    batch,
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
        picture=consent.picture,
        voice=consent.voice,
        language=consent.language,
    )
    options = dict(inputs.options)
    if getattr(voice, "prepared_from", None):
        options["prepared_voice_from"] = str(voice.prepared_from[0].pk)
    title = _title(video, portrait, voice, inputs)
    originals = [voice, *getattr(voice, "prepared_from", ())]
    job = Job(
        workspace=workspace,
        owner=owner,
        batch=batch,
        simulated=is_simulated(route),
        search_text=search_text_for(
            title=title,
            names=[asset.original_name for asset in (video, portrait, *originals) if asset is not None],
            people=[consent.person_name, consent.speaker_name],
            script=inputs.script or inputs.prompt,
        ),
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
        title=title,
    )
    job.hold = place_hold(
        workspace=workspace,
        member=owner,
        amount=cost,
        reference=str(job.id),
        reason=f"{route.name_on_record}, {seconds:.1f} s",
    )
    waits = review_required_before_running(attestation)
    job.status = Status.AWAITING_REVIEW if waits else Status.QUEUED
    job.save(force_insert=True)
    job.events.create(
        kind=EventKind.CREATED,
        from_status="",
        to_status=job.status,
        actor=f"user:{owner.pk}",
        message=(
            f"Created on {route.name_on_record}; {cost} credits held."
            + (" Waiting for a moderator to review consent." if waits else "")
        ),
    )
    if not waits:
        enqueue_after_commit(Task.SUBMIT, job.pk)
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


def create_job(*, owner, workspace, inputs: JobInputs, consent: Consent) -> Job:
    """Store the uploads, record the attestation, hold the workspace's credits for the
    member ``owner`` and create the job in ``workspace``.

    The attestation, hold, job and first event are one transaction; the submit task is
    enqueued when it commits. If anything fails, files stored for this request are
    removed again, so a refused request leaves nothing behind.
    Raises MediaRejected, CreditsRefused (the balance, the member's cap), ConsentMissing.
    """
    route = get_route(inputs.route_id)
    stored: list[Asset] = []
    try:
        video = _store(owner, workspace, inputs.source_video, "video", stored)
        portrait = _store(owner, workspace, inputs.portrait, "image", stored)
        voice = _store(owner, workspace, inputs.voice, "audio", stored)
        inputs.options = _with_speaker(inputs.options, video or portrait)
        seconds = _check_fit(route, shape=inputs.shape, video=video, portrait=portrait, voice=voice, inputs=inputs)
        voice = _prepared_voice(route, video=video, voice=voice, inputs=inputs, stored=stored)
        with transaction.atomic():
            job = _create_one(
                owner=owner,
                workspace=workspace,
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


def create_jobs_batch(
    *, owner, workspace, inputs: JobInputs, voices: list[Asset], consents: list[Consent]
) -> list[Job]:
    """One picture, several voices (the multi-language launch): one job per voice.

    Each job has its own hold and its own attestation covering the picture and that
    voice; all share a batch id and are queued in the order given (created_at follows
    it). All or nothing: if one hold cannot be placed, no job is created.
    Raises MediaRejected, CreditsRefused, ConsentMissing.
    """
    if not voices or len(voices) != len(consents):
        raise ValueError("one consent per voice")
    if inputs.shape not in BATCH_SHAPES and len(voices) > 1:
        raise MediaRejected("Several voices can only be combined with one video or one portrait.")
    route = get_route(inputs.route_id)
    stored: list[Asset] = []
    try:
        video = _store(owner, workspace, inputs.source_video, "video", stored)
        portrait = _store(owner, workspace, inputs.portrait, "image", stored)
        inputs.options = _with_speaker(inputs.options, video or portrait)
        for voice in voices:
            _store(owner, workspace, voice, "audio", stored)
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
                    workspace=workspace,
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


@transaction.atomic
def mark_output(*, job: Job, author, verdict: str, comment: str = "") -> OutputReview:
    """Record a review mark on a delivered output; the job's ``verdict`` follows the latest.

    Only a delivered output can be marked (a revoked one no longer exists for the team).
    Raises ValueError for an unknown verdict or a job without an output.
    """
    if verdict not in Verdict.values:
        raise ValueError(f"unknown verdict {verdict!r}")
    if job.status != Status.SUCCEEDED:
        raise ValueError(gettext_noop("only a delivered output can be reviewed"))
    review = OutputReview.objects.create(job=job, author=author, verdict=verdict, comment=comment.strip()[:2000])
    # Not a state change: the review column is history's filter, written with its row.
    Job.objects.filter(pk=job.pk).update(verdict=verdict)
    job.verdict = verdict
    return review
