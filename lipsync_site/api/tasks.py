"""django-q2 tasks of the API: take an id, call the service. Safe to run twice."""

from lipsync_site.api import webhooks


def deliver_webhook(delivery_id: str, wait: float = 0.0) -> str:
    return webhooks.deliver(delivery_id, wait=wait)


def resend_lost_webhooks() -> int:
    return webhooks.resend_lost()
