from django.http import Http404
from django.views.decorators.http import require_GET

from lipsync_site.media import links
from lipsync_site.media.serving import serve_asset
from lipsync_site.view_access import public_view


@public_view("a signed link: its token names the asset, purpose and user, checked against the row")
@require_GET
def signed_file(request, purpose: str, token: str):
    """A user's own media (or, for the moderation queue, media under review) through a
    signed link: tampered, expired, revoked or another user's link is a 404 (never a
    hint that the file exists)."""
    if purpose not in (links.Purpose.VIEW, links.Purpose.DOWNLOAD, links.Purpose.MODERATE, links.Purpose.API):
        raise Http404
    try:
        asset, _ = links.resolve(token, purpose, user=request.user)
    except links.InvalidLink:
        raise Http404 from None
    # Documents (signed releases) are never shown inline: a PDF can carry scripts.
    attachment = purpose in (links.Purpose.DOWNLOAD, links.Purpose.API) or asset.kind == asset.Kind.DOCUMENT
    return serve_asset(request, asset, as_attachment=attachment)
