"""Masking of secrets before anything reaches a log line, an event row or a page."""

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings

SECRET_KEY_PATTERN = re.compile(r"(token|secret|password|authorization|api[_-]?key|signature|cookie)", re.I)
BEARER_PATTERN = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
MASK = "***"


def _known_secrets() -> list[str]:
    values = [getattr(settings, name, "") for name in ("RUNCOMFY_API_KEY", "NEMO_TOKEN", "SECRET_KEY")]
    return [value for value in values if value and len(value) >= 8]


def redact_text(text: str) -> str:
    text = BEARER_PATTERN.sub(r"\1" + MASK, text)
    for secret in _known_secrets():
        text = text.replace(secret, MASK)
    return text


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
    """Logging filter that masks bearer tokens and configured keys in every record."""

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
