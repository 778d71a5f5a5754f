"""Masking of secrets before anything reaches a log line, an event row, an e-mail or a page.

Three kinds of secret are masked:

- values we know: the configured keys (``SECRET_VALUE_SETTINGS``) and secrets obtained at
  run time that an adapter registers with ``register_secret`` (NemoVideo's starter token);
- shapes that are secrets whatever their value: bearer tokens, ``x-api-key: ...`` and
  ``token=...`` pairs, NemoVideo ``nmv_usr_`` tokens, webhook ``whsec_`` secrets, the
  signature parameters of pre-signed URLs;
- the signed tokens in our own media links (``/jobs/inputs/<token>/...``): a prefix is
  kept so a log line can still be matched with its request, the rest is cut.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_PATTERN = re.compile(r"(token|secret|password|authorization|api[_-]?key|signature|cookie)", re.I)
MASK = "***"

# Settings whose values are secrets (read on every call, so tests and reloads see changes).
SECRET_VALUE_SETTINGS = ("RUNCOMFY_API_KEY", "NEMO_TOKEN", "SYNC_API_KEY", "SYNC_WEBHOOK_SECRET", "SECRET_KEY")

_SHAPES = (
    # Authorization: Bearer <token>
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\1" + MASK),
    # x-api-key: <key>, "x-api-key": "<key>"
    (re.compile(r"""((?:x-api-key|api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',}]+""", re.I), r"\1" + MASK),
    # Sync-Signature: t=<unix>,v1=<hex> (the whole value, commas included)
    (re.compile(r"""(sync-signature["']?\s*[:=]\s*["']?)[^\s"'}]+""", re.I), r"\1" + MASK),
    # token=..., secret=..., password=... in query strings and messages
    (
        re.compile(r"""((?:token|secret|password|passwd)["']?\s*[=:]\s*["']?)[^\s"'&,}]{6,}""", re.I),
        r"\1" + MASK,
    ),
    # the signature parameters of pre-signed URLs (S3, GCS, CloudFront)
    (
        re.compile(
            r"((?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|Signature|sig)=)[^&\s\"']+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"\bnmv_usr_[A-Za-z0-9_-]+"), "nmv_usr_" + MASK),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), "whsec_" + MASK),
)

# Our signed media links: keep a prefix of the token, enough to match a request in the logs.
LINK_TOKEN_PATTERN = re.compile(r"(/(?:jobs/inputs|media/files/[a-z]+)/)([A-Za-z0-9_:.\-]{12,})")
LINK_TOKEN_PREFIX = 8

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it appears from now on in this process (run-time tokens)."""
    if value and len(value) >= 8:
        with _registered_lock:
            _registered.add(value)


def _known_secrets() -> list[str]:
    try:
        values = [getattr(settings, name, "") for name in SECRET_VALUE_SETTINGS]
    except ImproperlyConfigured:  # a gunicorn line logged before Django is set up
        values = []
    with _registered_lock:
        values.extend(_registered)
    # Longest first: a secret that contains another is masked whole.
    return sorted({value for value in values if isinstance(value, str) and len(value) >= 8}, key=len, reverse=True)


def shorten_link_tokens(text: str) -> str:
    """``/jobs/inputs/<token>/input.mp4`` -> ``/jobs/inputs/<first 8 characters>…/input.mp4``."""
    return LINK_TOKEN_PATTERN.sub(lambda match: match.group(1) + match.group(2)[:LINK_TOKEN_PREFIX] + "…", text)


def redact_text(text: str) -> str:
    if not text:
        return text
    for secret in _known_secrets():
        text = text.replace(secret, MASK)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return shorten_link_tokens(text)


def redact(value: Any, *, max_chars: int = 2000) -> Any:
    """Return a copy of ``value`` with secret-looking keys and known secrets masked.

    Used for the provider payload excerpts stored on job events.
    """
    if isinstance(value, Mapping):
        return {
            str(key): (MASK if SECRET_KEY_PATTERN.search(str(key)) else redact(item, max_chars=max_chars))
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item, max_chars=max_chars) for item in list(value)[:50]]
    if isinstance(value, str):
        return redact_text(value)[:max_chars]
    return value


class RedactSecretsFilter(logging.Filter):
    """Logging filter that masks secrets and shortens link tokens in every record.

    Attached to the console handler (everything that propagates) and, as a logger filter,
    to ``django.request`` ("Not Found: /jobs/inputs/<token>/...") and ``django.server``
    (the development server's access log), which would otherwise print link tokens whole.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still logged, unredacted args dropped
            message = str(record.msg)
        cleaned = redact_text(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True
