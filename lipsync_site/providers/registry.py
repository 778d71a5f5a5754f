"""Which adapter serves which provider name."""

from functools import cache

from lipsync_site.providers.base import Provider


@cache
def get_provider(name: str) -> Provider:
    if name == "local":
        from lipsync_site.providers.local import LocalDraftProvider

        return LocalDraftProvider()
    raise LookupError(f"no provider adapter named {name!r}")
