"""Tokens and webhooks: creating, revoking, checking; each change one transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from lipsync_site.api.models import ApiToken, Scope, WebhookDelivery, WebhookEndpoint, WebhookEvent
from lipsync_site.api.webhooks import check_url, enqueue_delivery
from lipsync_site.workspaces.access import Access
from lipsync_site.workspaces.selectors import membership

TOKEN_MARK = "lsk"  # noqa: S105 (not a secret: tokens read lsk_<prefix>_<secret>: easy to spot in a leaked file)


class TokenRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token, shown once


@transaction.atomic
def create_token(*, workspace, created_by, name: str, scopes: list[str], expires_at: datetime | None) -> IssuedToken:
    """A new token for ``workspace``; the returned ``secret`` is never stored or shown again."""
    wanted = [scope for scope in Scope.values if scope in scopes]
    if Scope.WRITE in wanted and Scope.READ not in wanted:
        wanted.insert(0, Scope.READ)  # whoever may start a job may read it
    if not wanted:
        raise ValueError("a token needs at least one scope")
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        workspace=workspace,
        name=name.strip()[:100] or "API token",
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=wanted,
        expires_at=expires_at,
        created_by=created_by,
    )
    return IssuedToken(token, secret)


@transaction.atomic
def revoke_token(*, token: ApiToken) -> bool:
    """Stop the token at its next request. False if it was already revoked."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


@dataclass(frozen=True)
class TokenAccess:
    """Who a request acts as: the token, and its maker's standing in the token's workspace."""

    token: ApiToken
    access: Access

    @property
    def workspace(self):
        return self.token.workspace

    @property
    def user(self):
        return self.access.user

    def __str__(self) -> str:  # the rate limit's key
        return f"api-token:{self.token.pk}"


def authenticate(raw: str) -> TokenAccess:
    """The token's access, checked on every request: known, secret matches, not revoked,
    not expired, and its maker still a member of the workspace. Raises TokenRefused."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_MARK:
        raise TokenRefused("token_invalid", "This is not a token of ours.")
    token = ApiToken.objects.select_related("workspace", "created_by").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(raw)):
        raise TokenRefused("token_invalid", "This token is unknown.")
    if token.revoked_at is not None:
        raise TokenRefused("token_revoked", "This token was revoked.")
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("token_expired", "This token has expired.")
    found = membership(workspace_id=token.workspace_id, user=token.created_by)
    if found is None:
        raise TokenRefused("token_invalid", "The member who made this token no longer belongs to the workspace.")
    found.user = token.created_by
    # At most once a minute: the column says when, not how often.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return TokenAccess(token, Access(found))


# --- Webhooks --------------------------------------------------------------------------


class WebhookRefused(Exception):
    pass


@transaction.atomic
def create_webhook(*, workspace, created_by, url: str, events: list[str]) -> WebhookEndpoint:
    """A webhook endpoint with a fresh signing secret. Raises WebhookRefused for a URL we
    would not send to (see ``webhooks.check_url``) or no event chosen."""
    chosen = [event for event in WebhookEvent.values if event in events]
    if not chosen:
        raise WebhookRefused(gettext("Choose at least one event."))
    problem = check_url(url, resolve=False)
    if problem:
        raise WebhookRefused(problem)
    return WebhookEndpoint.objects.create(
        workspace=workspace, url=url, secret=f"whsec_{secrets.token_hex(24)}", events=chosen, created_by=created_by
    )


@transaction.atomic
def delete_webhook(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def announce(*, workspace_id, event: str, data: dict) -> list[WebhookDelivery]:
    """Record ``event`` for every active endpoint of the workspace that chose it, in the
    caller's transaction (the event and the change it reports commit together), and send
    each delivery after commit."""
    created = timezone.now()
    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(workspace_id=workspace_id, active=True):
        if event not in endpoint.events:
            continue
        delivery = WebhookDelivery(endpoint=endpoint, event=event, created_at=created, payload={})
        delivery.payload = {
            "id": str(delivery.id),
            "type": event,
            "created": int(created.timestamp()),
            "workspace": workspace_id,
            "data": data,
        }
        delivery.save(force_insert=True)
        enqueue_delivery(delivery.pk)
        deliveries.append(delivery)
    return deliveries


@transaction.atomic
def send_again(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same event (same id, so a receiver can tell a repeat) delivered anew, from the
    first attempt."""
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint, event=delivery.event, payload=delivery.payload, created_at=timezone.now()
    )
    enqueue_delivery(copy.pk)
    return copy
