"""The API's errors: JSON ``{"code": ..., "message": ...}`` with a stable code and the
message the web pages show for the same refusal (``jobs.submission.REFUSALS`` and the
codes below)."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal with its HTTP status, stable code and human message (and, for a refused
    submission, the reasons field by field)."""

    def __init__(self, status: int, code: str, message: str, *, errors: list[dict] | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}

    def body(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


# Codes that are not a refused submission's (those are jobs.submission.REFUSALS and
# Django's form codes such as "required").
CODES = {
    "token_missing": "Send the token as `Authorization: Bearer <token>`.",
    "token_invalid": "The token is unknown, or the member who made it left the workspace.",
    "token_expired": "The token has expired.",
    "token_revoked": "The token was revoked.",
    "scope_missing": "The token's scopes do not allow this.",
    "role_forbids": "The role of the member who made the token does not allow this.",
    "not_found": "Not found (or not this workspace's).",
    "invalid_request": "The request does not match the schema.",
    "consent_outdated": "The consent was attested to an old version of the wording.",
    "idempotency_key_reused": "The Idempotency-Key was used for a different request.",
    "rate_limited": "Too many requests.",
    "upload_too_large": "The file is larger than the upload limit.",
    "upload_interrupted": "The upload was interrupted.",
    "not_cancellable": "The job cannot be cancelled now.",
    "not_delivered": "The job has no output to download.",
}


def not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found.")
