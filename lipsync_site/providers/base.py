"""The one interface every provider implements, and the one error taxonomy they share.

A provider adapter knows routes, URLs and files; it knows no job row and no ledger. The
jobs app turns these results into state transitions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from lipsync_site.redaction import redact, redact_text

if TYPE_CHECKING:
    from lipsync_site.providers.catalog import Route


class RequestState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in {RequestState.SUCCEEDED, RequestState.FAILED, RequestState.CANCELLED}


@dataclass(frozen=True)
class InputFile:
    """One input handed to a provider: a signed public URL for remote providers, a local
    path for the engine that runs on this machine."""

    url: str = ""
    path: Path | None = None
    content_type: str = ""
    duration: float | None = None


@dataclass(frozen=True)
class SubmitInputs:
    video: InputFile | None = None
    image: InputFile | None = None
    audio: InputFile | None = None
    text: str = ""  # a script to be spoken (Kling text route)
    prompt: str = ""  # a scene description (Wan, HappyHorse)


@dataclass(frozen=True)
class SubmitOptions:
    mismatch_mode: str = "cut_off"
    # Reused on every attempt of the same job, so a provider that supports idempotency
    # keys can recognise a resubmission.
    idempotency_key: str = ""
    extra: dict = field(default_factory=dict)  # route-specific: aspect_ratio, voice_id, ...
    # The face who speaks, [x, y, w, h] as fractions of the frame (one of the faces
    # preflight found, see media.selectors.speaker_faces). Routes whose provider can be
    # told (``Route.speaker_choice``) pass it on; None lets the provider pick.
    speaker_box: tuple[float, float, float, float] | None = None
    # Called with a fraction 0..1 by providers that run here and know their progress.
    on_progress: Callable[[float], None] | None = None
    # Where a provider that notifies by webhook should post the request's outcome ("": poll).
    webhook_url: str = ""


@dataclass(frozen=True)
class PollResult:
    state: RequestState
    queue_position: int | None = None
    progress: float | None = None  # 0..1 when known
    message: str = ""  # failure reason for the user, when failed
    payload: dict = field(default_factory=dict)  # raw answer excerpt, redacted

    def __post_init__(self):
        # Provider text reaches pages, e-mails and event rows: mask secrets at the boundary.
        object.__setattr__(self, "message", redact_text(self.message))
        object.__setattr__(self, "payload", redact(self.payload))


@dataclass(frozen=True)
class ProviderOutput:
    url: str
    kind: str = "video"  # video, image, audio
    # Where the adapter can fetch the same file when ``url`` has expired or is refused
    # (NemoVideo's authenticated ``/api/render/proxy/<id>/download``); "" when none.
    fallback_url: str = ""


class ProviderError(Exception):
    """Base of the taxonomy. ``message`` is safe to show to the audience the subclass names.

    Message and payload are redacted here, once, for every adapter: a provider that echoes
    our key in its error text must not leak it to a page, an e-mail or an event row.
    """

    def __init__(self, message: str, *, payload: dict | None = None):
        message = redact_text(str(message))
        super().__init__(message)
        self.message = message
        self.payload = redact(payload or {})


class RetryableError(ProviderError):
    """Timeouts, 429, 5xx: try again after ``delay`` seconds (Retry-After when given)."""

    def __init__(self, message: str, *, delay: float = 5.0, payload: dict | None = None):
        super().__init__(message, payload=payload)
        self.delay = delay


class InputRejected(ProviderError):
    """Permanent: the provider refused our input. ``message`` is for the user."""


class AccountProblem(ProviderError):
    """Permanent: bad token, provider balance empty, plan limits. ``message`` is for the admin."""


class NotFound(ProviderError):
    """The provider does not know the request (unknown or expired)."""


class OutputRejected(InputRejected):
    """Permanent: the provider's output cannot be accepted (a host outside the allowlist,
    past the size cap). A subclass of ``InputRejected`` so callers that know only the
    original taxonomy still fail the job; ``message`` is safe for the user."""


class SubmissionUncertain(ProviderError):
    """The submit request may have reached the provider, but we never saw the answer.

    Never resend blindly: a paid request sent twice costs twice.
    """


class Provider(Protocol):
    name: str
    # True only where the provider documents that a resent submit with the same
    # ``SubmitOptions.idempotency_key`` cannot start (or charge) a second request.
    supports_idempotency_keys: ClassVar[bool]
    # The provider's documented limit on all calls a minute, when it has one below the
    # site's PROVIDER_CALLS_PER_MINUTE (Sync: 60 across every endpoint); None otherwise.
    calls_per_minute: ClassVar[int | None]

    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        """Start a request; return the provider's request id."""

    def poll(self, request_id: str) -> PollResult: ...

    def outputs(self, request_id: str) -> list[ProviderOutput]: ...

    def cancel(self, request_id: str) -> bool:
        """True when cancelled; False when the provider says it cannot be (already running)."""

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int) -> int:
        """Stream one output into ``destination``; return the number of bytes written."""
