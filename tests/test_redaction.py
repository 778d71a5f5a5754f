"""Secrets never reach a log line, an event row or a page."""

import logging

from lipsync_site.redaction import MASK, RedactSecretsFilter, redact, redact_text


def test_bearer_tokens_and_configured_keys_are_masked_in_text(settings):
    settings.RUNCOMFY_API_KEY = "rc-live-0123456789abcdef"
    text = redact_text("Authorization: Bearer abc.def-123 failed; key rc-live-0123456789abcdef rejected")
    assert "abc.def-123" not in text and "rc-live-0123456789abcdef" not in text
    assert text.count(MASK) == 2


def test_short_configured_values_are_not_treated_as_secrets(settings):
    settings.NEMO_TOKEN = "abc"  # too short to be a real token: masking it would mangle prose
    assert redact_text("abc def") == "abc def"


def test_secret_looking_keys_are_masked_at_any_depth():
    payload = {
        "request_id": "r-1",
        "headers": {"Authorization": "Bearer x", "X-Api-Key": "k"},
        "items": [{"token": "t", "url": "https://cdn.example/o.mp4"}],
        "client_secret": "s",
    }
    cleaned = redact(payload)
    assert cleaned["request_id"] == "r-1"
    assert cleaned["headers"] == {"Authorization": MASK, "X-Api-Key": MASK}
    assert cleaned["items"] == [{"token": MASK, "url": "https://cdn.example/o.mp4"}]
    assert cleaned["client_secret"] == MASK


def test_long_values_and_lists_are_cut():
    cleaned = redact({"detail": "x" * 5000, "many": list(range(100))}, max_chars=100)
    assert len(cleaned["detail"]) == 100 and len(cleaned["many"]) == 50


def test_the_log_filter_masks_the_formatted_message(settings):
    settings.RUNCOMFY_API_KEY = "rc-live-0123456789abcdef"
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "call failed with %s", ("rc-live-0123456789abcdef",), None
    )
    assert RedactSecretsFilter().filter(record)
    assert record.getMessage() == f"call failed with {MASK}"
