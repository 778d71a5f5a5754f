"""The shapes the API reads and answers, declared once: the OpenAPI document, the API's
answers and the webhooks' payloads all come from here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.selectors import route_label
from lipsync_site.media.models import Asset


class Error(Schema):
    code: str = Field(description="Stable code: branch on this, not on the message.")
    message: str = Field(description="What went wrong, in the words the web pages use.")
    errors: list[dict] = Field(default_factory=list, description="Field by field: {field, code, message}.")


class AssetOut(Schema):
    id: str
    kind: str
    name: str
    size_bytes: int
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None

    @staticmethod
    def of(asset: Asset) -> AssetOut:
        return AssetOut(
            id=str(asset.pk),
            kind=asset.kind,
            name=asset.display_name,
            size_bytes=asset.size_bytes,
            duration_seconds=asset.duration_seconds,
            width=asset.width,
            height=asset.height,
        )


class EventOut(Schema):
    at: datetime
    kind: str = Field(description="A stable event code such as submit.accepted or collect.succeeded.")
    from_status: str
    to_status: str
    message: str


class JobOut(Schema):
    id: str
    status: str
    status_label: str
    terminal: bool
    title: str
    shape: str
    route: str
    route_label: str
    simulated: bool
    batch: str | None = None
    progress: float = Field(description="0 to 1.")
    queue_position: int | None = None
    estimated_credits: int
    charged_credits: int | None = None
    lipsync_score: float | None = None
    mouth_moving: bool | None = None
    lipsync_offset_ms: int | None = Field(None, description="+ the mouth moves after the sound, - before it.")
    duration_drift_seconds: float | None = None
    verdict: str = ""
    error_message: str = ""
    has_output: bool
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    events: list[EventOut] | None = None


def job_out(job: Job, *, events: bool = False) -> JobOut:
    return JobOut(
        id=str(job.pk),
        status=job.status,
        status_label=str(Status(job.status).label),
        terminal=job.is_terminal,
        title=job.title,
        shape=job.shape,
        route=job.route_id,
        route_label=str(route_label(job.route_id)),
        simulated=job.simulated,
        batch=str(job.batch) if job.batch else None,
        progress=round(job.progress or 0.0, 4),
        queue_position=job.queue_position,
        estimated_credits=job.estimated_credits,
        charged_credits=job.charged_credits,
        lipsync_score=job.lipsync_score,
        mouth_moving=job.mouth_moving,
        lipsync_offset_ms=job.lipsync_offset_ms,
        duration_drift_seconds=job.duration_drift_seconds,
        verdict=job.verdict,
        error_message=job.error_message,
        has_output=bool(job.output_id) and job.status == Status.SUCCEEDED,
        created_by=job.owner.get_username(),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        events=[
            EventOut(
                at=event.at,
                kind=event.kind,
                from_status=event.from_status,
                to_status=event.to_status,
                message=event.message,
            )
            for event in job.events.order_by("at", "pk")
        ]
        if events
        else None,
    )


class JobPage(Schema):
    jobs: list[JobOut]
    next_cursor: str = Field("", description="Pass as `before` for the next (older) page; empty on the last.")
    matching: int | None = Field(None, description="Jobs matching the filters (counted up to a cap).")


class VoiceConsent(Schema):
    speaker_name: str = ""
    voice_provenance: str = Field("", description="own, consented, licensed or synthetic; empty: the main answer.")


class ConsentIn(Schema):
    version: str = Field(description="The consent version you attest to; GET /consent gives the current one.")
    person_name: str
    likeness_consent: bool
    voice_provenance: str = Field("", description="own, consented, licensed or synthetic.")
    speaker_name: str = ""
    public_figure: bool = False
    no_misuse: bool
    evidence: str | None = Field(None, description="Id of an uploaded signed release (PDF, JPG, PNG).")
    voices: list[VoiceConsent] = Field(default_factory=list, description="Per voice of a batch, in order.")


class MediaChoice(Schema):
    shape: str = Field("video_audio", description="video_audio, portrait_audio, video_script, portrait_script, script.")
    video: str | None = None
    portrait: str | None = None
    voices: list[str] = Field(default_factory=list, description="One job per voice (a batch).")
    script: str = ""
    duration: float | None = None
    mismatch_mode: str = "loop"
    speaker: int | None = None
    confirm_no_face: bool = False
    route: str = Field("", description="A route id; empty: the suggested route.")


class JobIn(MediaChoice):
    consent: ConsentIn


class Created(Schema):
    jobs: list[JobOut]
    batch: str | None = None


class Check(Schema):
    code: str
    level: str
    subject: str
    message: str
    blocks: bool


class Offer(Schema):
    route: str
    label: str
    fits: bool
    problems: list[str]
    credits: int
    credits_each: list[int]
    seconds: list[float]
    simulated: bool


class QuoteOut(Schema):
    ready: bool
    offers: list[Offer]
    suggested: str | None = None
    reason: str = ""
    chosen: str | None = None
    no_route: str = ""
    checks: list[Check]
    can_start: bool
    balance: dict


class ConsentWording(Schema):
    likeness: str
    person_label: str
    voice_question: str
    voice_note: str
    public_figure: str
    no_misuse: str
    evidence: str


class ConsentOut(Schema):
    version: str
    voice_provenance_choices: dict[str, str]
    by_shape: dict[str, ConsentWording]


class CancelOut(Schema):
    outcome: str
    message: str
    job: JobOut


class DownloadOut(Schema):
    url: str
    expires_at: datetime
    name: str
    size_bytes: int


class BalanceOut(Schema):
    available: int
    held: int
    cap: int | None = None
    cap_left: int | None = None
    budget: int


class LedgerEntryOut(Schema):
    id: int
    at: datetime
    kind: str
    amount: int
    reason: str
    reference: str
    member: str | None = None


class LedgerPage(Schema):
    entries: list[LedgerEntryOut]
    next_before: int | None = None


class JobFilters(Schema):
    q: str = ""
    state: Literal["", "in_progress", "succeeded", "failed", "cancelled", "rejected"] = ""
    route: str = ""
    shape: str = ""
    verdict: str = ""
    since: date | None = None
    until: date | None = None
    before: str = Field("", description="A `next_cursor` from the previous page.")
