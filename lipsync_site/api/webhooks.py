"""Sending webhooks: signed bodies, guarded against server-side request forgery, retried
with backoff for about a day by the django-q2 workers.

The signature is Sync's format: ``Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``
with the endpoint's secret. A receiver checks it and the freshness of ``t`` (README).

Before every attempt the host is resolved and each address checked: no private,
loopback, link-local, multicast or reserved address (unless ``WEBHOOK_ALLOW_PRIVATE``,
for development and tests), https only when ``WEBHOOK_REQUIRE_HTTPS`` (production). The
request then goes to the checked address itself (the Host header and TLS name stay the
URL's), so a second lookup cannot swap in another one. Redirects are not followed,
timeouts are short and at most ``RESPONSE_EXCERPT`` bytes of the answer are read.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT = 500
TASK = "lipsync_site.api.tasks.deliver_webhook"
# Delays shorter than this wait inside the task; longer ones go to django-q2's scheduler
# (which looks about every 30 s).
INLINE_WAIT_MAX = 20.0


def signature_header(secret: str, body: bytes, *, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _address_problem(address: str) -> str:
    ip = ipaddress.ip_address(address)
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return gettext(
            "The address %(address)s is private, loopback or link-local: webhooks go only to public addresses."
        ) % {"address": address}
    return ""


def check_url(url: str, *, resolve: bool = True) -> str:
    """Why we would not send to ``url`` ("" when we would). With ``resolve``, also every
    address its host resolves to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return gettext("This is not a URL.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return gettext("A webhook URL starts with https:// and names a host.")
    if settings.WEBHOOK_REQUIRE_HTTPS and parts.scheme != "https":
        return gettext("Webhook URLs must use https.")
    if parts.username or parts.password:
        return gettext("Put no credentials in the webhook URL; check the signature instead.")
    if not resolve or settings.WEBHOOK_ALLOW_PRIVATE:
        return ""
    try:
        addresses = _resolve(parts.hostname, parts.port)
    except OSError:
        return gettext("The host %(host)s does not resolve.") % {"host": parts.hostname}
    return next((problem for problem in map(_address_problem, addresses) if problem), "")


def _resolve(host: str, port: int | None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _pinned(url: str) -> tuple[str, dict, dict]:
    """The URL with its host replaced by a checked address, plus the Host header and the
    TLS name to keep. Raises Refused."""
    parts = urlsplit(url)
    host = parts.hostname
    try:
        addresses = _resolve(host, parts.port)
    except OSError as exc:
        raise Refused(f"The host {host} does not resolve.") from exc
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            problem = _address_problem(address)
            if problem:
                raise Refused(problem)
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    host_header = host + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


class Refused(Exception):
    """We will not send to this URL (now)."""


def enqueue_delivery(delivery_id, *, delay: float = 0.0) -> None:
    """Send the delivery after the current transaction commits (``delay`` seconds later)."""
    key = str(delivery_id)

    def put():
        if delay <= INLINE_WAIT_MAX:
            async_task(TASK, key, delay, task_name=f"webhook {key}")
        else:
            schedule(
                TASK,
                key,
                0.0,
                name=f"webhook {key} {time.time():.0f}",
                schedule_type=Schedule.ONCE,
                repeats=1,
                next_run=timezone.now() + timedelta(seconds=delay),
            )

    transaction.on_commit(put)


def retry_delays() -> list[float]:
    return list(settings.WEBHOOK_RETRY_DELAYS_SECONDS)


def deliver(delivery_id, *, wait: float = 0.0) -> str:
    """One attempt at a delivery (after ``wait`` seconds); on failure the next attempt is
    scheduled with backoff, until the delays run out. Returns the delivery's status.
    Safe to run twice: a delivered or abandoned delivery is left alone."""
    from lipsync_site.api.models import WebhookDelivery

    if wait > 0:
        time.sleep(min(wait, INLINE_WAIT_MAX))
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED):
        return delivery.status if delivery else "gone"
    endpoint = delivery.endpoint
    body = body_of(delivery.payload)
    status_code, excerpt, error = None, "", ""
    try:
        problem = check_url(endpoint.url, resolve=False)
        if problem:
            raise Refused(problem)
        url, headers, extensions = _pinned(endpoint.url)
        headers.update(
            {
                "Content-Type": "application/json",
                "User-Agent": "lipsync-webhooks/1",
                "Signature": signature_header(endpoint.secret, body),
                "Webhook-Id": str(delivery.payload.get("id", delivery.pk)),
            }
        )
        timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS)
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, content=body, headers=headers, extensions=extensions) as response,
        ):
            status_code = response.status_code
            read = b""
            for chunk in response.iter_bytes():
                read += chunk
                if len(read) >= RESPONSE_EXCERPT:
                    break
            excerpt = read[:RESPONSE_EXCERPT].decode("utf-8", errors="replace")
        if not 200 <= status_code < 300:
            error = f"The receiver answered {status_code}."
    except Refused as exc:
        error = str(exc)
    except httpx.TimeoutException:
        error = f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except httpx.HTTPError as exc:
        error = f"Could not reach the receiver: {type(exc).__name__}."
    return _record_attempt(delivery, status_code=status_code, excerpt=excerpt, error=error)


def _record_attempt(delivery, *, status_code, excerpt: str, error: str) -> str:
    from lipsync_site.api.models import WebhookDelivery

    now = timezone.now()
    attempts = delivery.attempts + 1
    delays = retry_delays()
    if not error:
        status, next_at = WebhookDelivery.Status.DELIVERED, None
    elif attempts <= len(delays):
        delay = delays[attempts - 1]
        status, next_at = WebhookDelivery.Status.RETRYING, now + timedelta(seconds=delay)
    else:
        status, next_at = WebhookDelivery.Status.FAILED, None
    with transaction.atomic():
        # Guarded by the attempt count: a twin of this task that got here first wins.
        changed = WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            attempts=attempts,
            status=status,
            last_attempt_at=now,
            next_attempt_at=next_at,
            response_status=status_code,
            response_excerpt=excerpt,
            error=error[:300],
        )
        if changed and status == WebhookDelivery.Status.RETRYING:
            enqueue_delivery(delivery.pk, delay=(next_at - now).total_seconds())
    if error:
        logger.info("webhook %s attempt %s: %s", delivery.pk, attempts, error)
    return status


# A delivery whose task should have run this long ago was lost by the queue (a worker
# killed mid-task, a Redis broker restarted): the sweep puts it back.
LOST_AFTER = timedelta(minutes=5)


def resend_lost(*, now=None) -> int:
    """Enqueue again the deliveries the queue forgot; returns how many. Run by django-q2's
    scheduler every few minutes (the schedule is made by a migration)."""
    from django.db.models import Q

    from lipsync_site.api.models import WebhookDelivery

    now = now or timezone.now()
    cutoff = now - LOST_AFTER
    lost = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.PENDING, created_at__lt=cutoff)
        | Q(status=WebhookDelivery.Status.RETRYING, next_attempt_at__lt=cutoff)
    ).values_list("pk", flat=True)[:500]
    count = 0
    for delivery_id in lost:
        async_task(TASK, str(delivery_id), 0.0, task_name=f"webhook {delivery_id} (sweep)")
        count += 1
    return count
