"""Signed, expiring links to media.

A token names the asset, the purpose and the asset's revocation counter; for purposes
that need a signed-in member it also names the user. Each purpose has its own salt and
maximum age, so a token made for one purpose is worthless for another.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from lipsync_site.media.models import Asset
from lipsync_site.workspaces.models import Membership
from lipsync_site.workspaces.selectors import is_member


class Purpose:
    VIEW = "view"  # inline in the player, for the signed-in member it was made for
    DOWNLOAD = "download"  # attachment, for the signed-in member it was made for
    PROVIDER = "provider"  # public, fetched by a provider without cookies
    MODERATE = "moderate"  # a moderator judging consent: staff with the permission, not the owner
    # Handed to an API token's holder (no session): the link is the permission, for a short
    # while, and only while the member who made the token still belongs to the workspace.
    API = "api"

    ALL = (VIEW, DOWNLOAD, PROVIDER, MODERATE, API)


MODERATOR_PERMISSION = "consent.moderate_attestation"


def is_moderator(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.is_staff and user.has_perm(MODERATOR_PERMISSION)
    )


def max_age_for(purpose: str) -> int:
    if purpose == Purpose.PROVIDER:
        return settings.PROVIDER_LINK_MAX_AGE_SECONDS
    if purpose == Purpose.API:
        return settings.API_LINK_MAX_AGE_SECONDS
    return settings.SIGNED_LINK_MAX_AGE_SECONDS


@dataclass(frozen=True)
class LinkClaims:
    asset_id: str
    purpose: str
    generation: int
    user_id: int | None
    job_id: str | None


class InvalidLink(Exception):
    pass


def _salt(purpose: str) -> str:
    return f"lipsync_site.media.link.{purpose}"


class _IssuedAt(signing.TimestampSigner):
    """A signer whose timestamp is given: the same claims issued at the same moment make
    the same token (a provider that dedupes a resent request compares its input URLs)."""

    def __init__(self, issued_at: int, **kwargs):
        super().__init__(**kwargs)
        self.issued_at = issued_at

    def timestamp(self):
        return signing.b62_encode(int(self.issued_at))


def make_token(
    asset: Asset,
    purpose: str,
    *,
    user_id: int | None = None,
    job_id: str | None = None,
    issued_at: float | None = None,
) -> str:
    """A token for ``purpose``; ``issued_at`` (unix seconds, not in the future) makes it
    reproducible, and it expires ``max_age`` after that moment."""
    return _token(asset.id, asset.link_generation, purpose, user_id=user_id, job_id=job_id, issued_at=issued_at)


def _token(
    asset_id,
    generation: int,
    purpose: str,
    *,
    user_id: int | None = None,
    job_id: str | None = None,
    issued_at: float | None = None,
) -> str:
    if purpose not in Purpose.ALL:
        raise ValueError(purpose)
    payload = {"a": asset_id.hex, "g": generation, "u": user_id, "j": job_id}
    if issued_at is None:
        return signing.dumps(payload, salt=_salt(purpose), compress=True)
    return _IssuedAt(int(issued_at), salt=_salt(purpose)).sign_object(payload, compress=True)


def read_token(token: str, purpose: str) -> LinkClaims:
    """Check signature and expiry. Ownership and revocation are checked against the row."""
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=max_age_for(purpose))
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise InvalidLink(str(exc)) from None
    return LinkClaims(
        asset_id=payload["a"], purpose=purpose, generation=payload["g"], user_id=payload["u"], job_id=payload.get("j")
    )


def resolve(token: str, purpose: str, *, user=None) -> tuple[Asset, LinkClaims]:
    """The asset a valid, unrevoked link points at. Raises InvalidLink otherwise."""
    claims = read_token(token, purpose)
    asset = Asset.objects.filter(pk=claims.asset_id).first()
    if asset is None or asset.link_generation != claims.generation:
        raise InvalidLink("unknown or revoked asset")
    if purpose == Purpose.MODERATE:
        # Bound to the moderator it was made for, who must still hold the permission.
        if not is_moderator(user) or user.pk != claims.user_id:
            raise InvalidLink("not a moderator's link")
        return asset, claims
    if purpose == Purpose.API:
        if (
            claims.user_id is None
            or not Membership.objects.filter(workspace_id=asset.workspace_id, user_id=claims.user_id).exists()
        ):
            raise InvalidLink("the token's member left the workspace")
        return asset, claims
    if purpose != Purpose.PROVIDER:
        # Bound to the user it was made for, who must still be a member of the asset's
        # workspace: a link forwarded, or kept by someone who left, stops working.
        if user is None or not user.is_authenticated or claims.user_id is None or user.pk != claims.user_id:
            raise InvalidLink("link belongs to someone else")
        if not is_member(workspace_id=asset.workspace_id, user=user):
            raise InvalidLink("not a member of the asset's workspace")
    return asset, claims


def user_url(asset: Asset, purpose: str, *, user) -> str:
    token = make_token(asset, purpose, user_id=user.pk)
    return reverse("media:file", kwargs={"purpose": purpose, "token": token})


def user_url_by_id(asset_id, generation: int, purpose: str, *, user) -> str:
    """``user_url`` from the asset's id and revocation counter alone (a list of jobs selects
    those two columns of each poster rather than loading the assets)."""
    token = _token(asset_id, generation, purpose, user_id=user.pk)
    return reverse("media:file", kwargs={"purpose": purpose, "token": token})


def api_url(asset: Asset, *, user_id: int) -> str:
    """A download link for an API client: it works without a session or the token."""
    token = make_token(asset, Purpose.API, user_id=user_id)
    return reverse("media:file", kwargs={"purpose": Purpose.API, "token": token})


def moderator_url(asset: Asset, *, user) -> str:
    """A link for the moderation queue: works only for this moderator, and dies with the
    asset's other links when consent is rejected."""
    token = make_token(asset, Purpose.MODERATE, user_id=user.pk)
    return reverse("media:file", kwargs={"purpose": Purpose.MODERATE, "token": token})
