"""The lip-sync job and its event log.

Status changes only through ``Job.transition`` (and, for terminal states, ``Job.finish``,
which only ``jobs.workflow.settle`` calls): a guarded ``UPDATE ... WHERE status IN (...)``
that must change exactly one row, followed by an event row in the same transaction.
Terminal states are final, but for one move: a delivered job whose consent is rejected
afterwards becomes revoked.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lipsync_site.media import lipsync_check
from lipsync_site.redaction import redact


class Status(models.TextChoices):
    AWAITING_REVIEW = "awaiting_review", _("Awaiting consent review")
    QUEUED = "queued", _("Queued")
    SUBMITTING = "submitting", _("Submitting")
    PROVIDER_QUEUED = "provider_queued", _("Queued at provider")
    RUNNING = "running", _("Running")
    COLLECTING = "collecting", _("Collecting output")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Consent rejected")
    # Delivered, then withdrawn: a moderator rejected the consent after the output existed.
    REVOKED = "revoked", _("Revoked")


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.REJECTED, Status.REVOKED})
ACTIVE = frozenset(set(Status) - TERMINAL)

# For each target state, the states it may be entered from.
ALLOWED_FROM: dict[str, frozenset] = {
    # Back from submitting only when the request provably never reached the provider, or
    # the provider dedupes by idempotency key: a paid request is never sent twice.
    Status.QUEUED: frozenset({Status.AWAITING_REVIEW, Status.SUBMITTING}),
    Status.SUBMITTING: frozenset({Status.QUEUED}),
    Status.PROVIDER_QUEUED: frozenset({Status.SUBMITTING}),
    Status.RUNNING: frozenset({Status.SUBMITTING, Status.PROVIDER_QUEUED}),
    Status.COLLECTING: frozenset({Status.SUBMITTING, Status.PROVIDER_QUEUED, Status.RUNNING}),
    Status.SUCCEEDED: frozenset({Status.COLLECTING}),
    Status.FAILED: ACTIVE,
    Status.CANCELLED: ACTIVE,
    Status.REJECTED: frozenset({Status.AWAITING_REVIEW}),
    # The one move between terminal states: a delivery withdrawn (its hold was settled
    # when it succeeded; ``jobs.workflow.settle`` decides whether it is refunded).
    Status.REVOKED: frozenset({Status.SUCCEEDED}),
}


class EventKind(models.TextChoices):
    """What a ``JobEvent`` records, as a code the admin and the API filter on (the message
    is for people and may change)."""

    CREATED = "job.created", _("Created")
    REVIEW_APPROVED = "review.approved", _("Consent approved")
    REVIEW_REJECTED = "review.rejected", _("Consent rejected")
    REVIEW_REVOKED = "review.revoked", _("Delivery revoked")
    SUBMIT_STARTED = "submit.started", _("Submitting")
    SUBMIT_ACCEPTED = "submit.accepted", _("Accepted by the provider")
    SUBMIT_REQUEUED = "submit.requeued", _("Back in the queue")
    SUBMIT_REFUSED = "submit.refused", _("Refused by the provider")
    SUBMIT_UNKNOWN = "submit.unknown", _("Submission fate unknown")
    SUBMIT_DUPLICATE = "submit.duplicate", _("Duplicate request cancelled")
    SUBMIT_FAILED = "submit.failed", _("Submission failed")
    INPUT_FETCHED = "input.fetched", _("Input fetched by the provider")
    RUN_STARTED = "run.started", _("Running")
    RUN_FINISHED = "run.finished", _("Finished at the provider")
    RUN_FAILED = "run.failed", _("Failed at the provider")
    COLLECT_RETRY = "collect.retry", _("Download retried")
    COLLECT_FAILED = "collect.failed", _("Output not collected")
    COLLECT_SUCCEEDED = "collect.succeeded", _("Output delivered")
    CHECK_FLAGGED = "check.flagged", _("Output check flagged")
    CANCEL_DONE = "cancel.done", _("Cancelled")
    CANCEL_REFUSED = "cancel.refused", _("Cancel refused")
    CANCEL_UNREACHABLE = "cancel.unreachable", _("Cancel not delivered")
    CANCEL_AT_PROVIDER = "cancel.provider", _("Stopped at the provider")
    SWEEP_HANDOVER = "sweep.handover", _("Handed over by the sweep")
    SWEEP_ABANDONED = "sweep.abandoned", _("Worker lost")
    TIME_LIMIT = "sweep.time_limit", _("Time limit reached")
    NOTE = "note", _("Note")


class TransitionRefused(Exception):
    """The job was not in a state the transition may leave (someone else moved it)."""


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The workspace's job: every member sees it, its credits are the workspace's. ``owner``
    # is who created it (a member removed later keeps being named here).
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.PROTECT, related_name="jobs")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    batch = models.UUIDField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.QUEUED, db_index=True)
    shape = models.CharField(max_length=20)
    route_id = models.CharField(max_length=64)
    provider = models.CharField(max_length=32)
    title = models.CharField(max_length=200, blank=True)
    # The route ran against a loopback simulator (no provider key): a placeholder output,
    # said so on the job page, in history and on the player.
    simulated = models.BooleanField(default=False)
    # What history's search looks in, lower-cased, written once at creation: the title, the
    # files' names, the person and speaker named in the consent, the script (see
    # ``search_text_for``). One column, so a search is one indexed scan, not five joins.
    search_text = models.TextField(blank=True, default="")
    # The latest review mark of the output (see ``OutputReview``), for history's filter.
    verdict = models.CharField(max_length=16, blank=True, default="", db_index=True)

    source_video = models.ForeignKey(
        "media.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs_as_video"
    )
    portrait = models.ForeignKey(
        "media.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs_as_portrait"
    )
    voice = models.ForeignKey(
        "media.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs_as_voice"
    )
    script = models.TextField(blank=True)
    prompt = models.TextField(blank=True)
    mismatch_mode = models.CharField(max_length=16, default="cut_off")
    options = models.JSONField(default=dict, blank=True)

    attestation = models.ForeignKey("consent.Attestation", on_delete=models.PROTECT, related_name="jobs")
    hold = models.OneToOneField("credits.Hold", on_delete=models.PROTECT, related_name="job")
    estimated_seconds = models.FloatField()
    estimated_credits = models.PositiveIntegerField()
    charged_credits = models.PositiveIntegerField(null=True, blank=True)

    provider_request_id = models.CharField(max_length=200, blank=True)
    progress = models.FloatField(default=0.0)
    queue_position = models.PositiveIntegerField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_count = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    # Work in progress is leased, never owned: a worker or tracker that dies leaves a lease
    # that expires, and the sweep (jobs.sweep) hands the job on. ``lease_owner`` is a token
    # unique to one claim, so a late writer whose lease was taken over changes nothing.
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When a submit or collect task was last put on the queue (the queue may lose it).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    collect_attempts = models.PositiveSmallIntegerField(default=0)
    # Past this the job fails and its hold is released: the route's time limit while at the
    # provider, the collection window (JOBS_COLLECT_DEADLINE_SECONDS) once collecting.
    deadline_at = models.DateTimeField(null=True, blank=True)
    # When the owner was told the job finished (set once, by a guarded update).
    notified_at = models.DateTimeField(null=True, blank=True)

    output = models.ForeignKey("media.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    poster = models.ForeignKey("media.Asset", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    error_message = models.TextField(blank=True)
    # The output check: does the mouth move with the speech, in time? (see media.lipsync_check)
    lipsync_score = models.FloatField(null=True, blank=True)
    mouth_moving = models.BooleanField(null=True, blank=True)
    duration_drift_seconds = models.FloatField(null=True, blank=True)
    # + the mouth moves after the sound (late), - before it; null when it cannot be told.
    lipsync_offset_ms = models.IntegerField(null=True, blank=True)
    # The rest of the check, for the page and the admin: the faces on the output's poster
    # (index, box, which was checked), the share of frames the face was followed in, and
    # whether the sound runs on past the picture.
    lipsync_details = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # History pages by keyset (created_at, id) within a workspace: one index range per page, any depth.
            models.Index(fields=["workspace", "-created_at", "-id"], name="jobs_history_keyset"),
            models.Index(fields=["status", "next_poll_at"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]

    def __str__(self):
        return f"job {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def input_assets(self):
        return [asset for asset in (self.source_video, self.portrait, self.voice) if asset is not None]

    @property
    def credit_state(self) -> str:
        """What the ledger did with this job's hold: held, charged, released or refunded."""
        if not self.is_terminal:
            return "held"
        if self.status in {Status.SUCCEEDED, Status.REVOKED}:
            refunded = self.status == Status.REVOKED and self.hold.status == "refunded"
            return "refunded" if refunded else "charged"
        return "released"

    @property
    def credit_summary(self) -> str:
        """The credits in a few words, as the ledger has them (history, job page)."""
        state = self.credit_state
        if state == "charged":
            returned = self.estimated_credits - (self.charged_credits or 0)
            if returned > 0:
                return gettext("%(charged)d charged, %(returned)d released") % {
                    "charged": self.charged_credits,
                    "returned": returned,
                }
            return gettext("%(charged)d charged") % {"charged": self.charged_credits or 0}
        if state == "refunded":
            return gettext("%(charged)d refunded") % {"charged": self.charged_credits or 0}
        if state == "held":
            return gettext("%(credits)d held") % {"credits": self.estimated_credits}
        return gettext("%(credits)d released") % {"credits": self.estimated_credits}

    @property
    def error_message_display(self) -> str:
        """The failure in the reader's language when it is one of the known sentences (the
        message is stored as written, in English, by whichever worker wrote it)."""
        from lipsync_site.jobs.workflow.policy import in_reader_language

        return in_reader_language(self.error_message) if self.error_message else ""

    @property
    def checked(self) -> bool:
        """The output check ran on this job's output."""
        return self.mouth_moving is not None

    @property
    def lipsync_words(self) -> list[str]:
        """The output check in a few phrases a marketer reads at a glance: "the mouth
        follows the voice", "about 200 ms late", "the last 47 s have no picture"."""
        if not self.checked:
            return []
        return lipsync_check.in_words(
            face_found=bool(self.lipsync_details.get("face_found", self.lipsync_score)),
            score=self.lipsync_score,
            offset_ms=self.lipsync_offset_ms,
            drift_seconds=self.duration_drift_seconds,
            sound_outlasts_picture=self.lipsync_details.get("sound_outlasts_picture", True),
        )

    @property
    def lipsync_problems(self) -> list[str]:
        """What the check flags: no_face, still_mouth, offset, drift (empty when all is well)."""
        if not self.checked:
            return []
        return lipsync_check.problems(
            face_found=bool(self.lipsync_details.get("face_found", self.lipsync_score)),
            mouth_moving=self.mouth_moving,
            offset_ms=self.lipsync_offset_ms,
            drift_seconds=self.duration_drift_seconds,
        )

    @property
    def speaker_index(self) -> int | None:
        """The face the user chose as the one who speaks (1 = leftmost), if they chose."""
        return self.options.get("speaker")

    def elapsed_seconds(self) -> float:
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.created_at).total_seconds())

    def transition(
        self,
        to: str,
        *,
        kind: str = EventKind.NOTE,
        actor: str = "system",
        message: str = "",
        payload: dict | None = None,
        allowed_from=None,
        guard: models.Q | None = None,
        **fields,
    ) -> JobEvent:
        """Move to a non-terminal state ``to`` if the job is still in an allowed state (and
        matches ``guard``, e.g. a lease); raise TransitionRefused otherwise.

        Terminal states are entered only through ``jobs.workflow.settle``, which settles
        the credit hold in the same transaction. Extra ``fields`` are written by the same
        guarded update.
        """
        if to in TERMINAL:
            raise ValueError(f"{to} is terminal: settle the job with jobs.workflow.settle")
        return self._move(to, kind, actor, message, payload, allowed_from, guard, fields)

    def finish(
        self,
        to: str,
        *,
        kind: str,
        actor: str,
        message: str,
        payload: dict | None = None,
        allowed_from=None,
        guard: models.Q | None = None,
        **fields,
    ) -> JobEvent:
        """The guarded move into a terminal state. Only ``jobs.workflow.settle`` calls it,
        inside the transaction that settles the hold."""
        if to not in TERMINAL:
            raise ValueError(f"{to} is not terminal")
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("a job is finished inside the transaction that settles its hold")
        return self._move(to, kind, actor, message, payload, allowed_from, guard, fields)

    def _move(self, to, kind, actor, message, payload, allowed_from, guard, fields) -> JobEvent:
        sources = allowed_from or ALLOWED_FROM.get(to, frozenset())
        now = timezone.now()
        if to in TERMINAL:
            fields.setdefault("finished_at", now)
        if to == Status.SUBMITTING:
            fields.setdefault("started_at", now)
        with transaction.atomic():
            current = Job.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            guarded = Job.objects.filter(pk=self.pk, status__in=list(sources))
            if guard is not None:
                guarded = guarded.filter(guard)
            if guarded.update(status=to, updated_at=now, **fields) != 1:
                raise TransitionRefused(f"job {self.pk} is {current}, cannot move to {to}")
            event = JobEvent.objects.create(
                job_id=self.pk,
                kind=kind,
                from_status=current,
                to_status=to,
                actor=actor[:100],
                message=message[:2000],
                payload=redact(payload or {}),
            )
        self.refresh_from_db()
        return event

    def log(
        self, message: str, *, kind: str = EventKind.NOTE, actor: str = "system", payload: dict | None = None
    ) -> JobEvent:
        """An event without a state change (an input fetched, a retry scheduled, ...)."""
        return JobEvent.objects.create(
            job_id=self.pk,
            kind=kind,
            from_status=self.status,
            to_status=self.status,
            actor=actor[:100],
            message=message[:2000],
            payload=redact(payload or {}),
        )


def search_text_for(*, title: str, names, people, script: str) -> str:
    """The text history's search matches, lower-cased (see ``Job.search_text``)."""
    parts = [title, *names, *people, script]
    return "\n".join(part.strip() for part in parts if part and part.strip()).lower()[:4000]


class Verdict(models.TextChoices):
    APPROVED = "approved", _("Approved")
    CHANGES = "changes", _("Needs changes")
    REJECTED = "rejected", _("Rejected")


class OutputReview(models.Model):
    """A review mark on a job's output: approved, needs changes or rejected, with a comment
    and who made it. Rows are never edited; the job's ``verdict`` is the latest one."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=16, choices=Verdict)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["job", "-created_at"])]

    def __str__(self):
        return f"{self.get_verdict_display()} by {self.author} on job {self.job_id}"


class JobEvent(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=EventKind, default=EventKind.NOTE, db_index=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.CharField(max_length=100)
    message = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.from_status} -> {self.to_status}: {self.message}"


class ProviderCallBudget(models.Model):
    """A token bucket per provider account, shared by every tracker through the database.

    Trackers take tokens in one short locked transaction per batch; process memory never
    holds the budget, so any number of trackers together stay under the account's rate.
    """

    key = models.CharField(max_length=100, primary_key=True)
    tokens = models.FloatField(default=0.0)
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.key}: {self.tokens:.1f} tokens"


class IdempotencyKey(models.Model):
    """A request that creates or spends, remembered for a day so a repeat gets the first
    answer instead of a second job: the new-job form's one-time token, or an API client's
    ``Idempotency-Key``. Unique per workspace and origin; see ``jobs.idempotency``."""

    class Origin(models.TextChoices):
        FORM = "form", "New-job form"
        API = "api", "API"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    origin = models.CharField(max_length=8, choices=Origin)
    key = models.CharField(max_length=255)
    # What the first request asked for (a hash of its body): the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=200)
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "origin", "key"], name="jobs_idempotency_key_unique")
        ]

    def __str__(self):
        return f"{self.origin} key {self.key}"
