"""The one interface every provider implements, and the one error taxonomy they share.

A provider adapter knows routes, URLs and files; it knows no job row and no ledger. The
jobs app turns these results into state transitions.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

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


@dataclass(frozen=True)
class PollResult:
    state: RequestState
    queue_position: int | None = None
    progress: float | None = None  # 0..1 when known
    message: str = ""  # failure reason for the user, when failed
    payload: dict = field(default_factory=dict)  # raw answer excerpt (redacted before storing)


@dataclass(frozen=True)
class ProviderOutput:
    url: str
    kind: str = "video"  # video, image, audio


class ProviderError(Exception):
    """Base of the taxonomy. ``message`` is safe to show to the audience the subclass names."""

    def __init__(self, message: str, *, payload: dict | None = None):
        super().__init__(message)
        self.message = message
        self.payload = payload or {}


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

    def submit(self, route: Route, inputs: SubmitInputs, options: SubmitOptions) -> str:
        """Start a request; return the provider's request id."""

    def poll(self, request_id: str) -> PollResult: ...

    def outputs(self, request_id: str) -> list[ProviderOutput]: ...

    def cancel(self, request_id: str) -> bool:
        """True when cancelled; False when the provider says it cannot be (already running)."""

    def download(self, output: ProviderOutput, destination: Path, *, max_bytes: int) -> int:
        """Stream one output into ``destination``; return the number of bytes written."""
