"""Which adapter serves which provider name."""

from functools import cache

from lipsync_site.providers.base import Provider


@cache
def get_provider(name: str) -> Provider:
    """The adapter for ``name`` ("local", "runcomfy", "nemovideo"). Adapters read settings
    on every call, so one cached instance serves the whole process."""
    if name == "local":
        from lipsync_site.providers.local import LocalDraftProvider

        return LocalDraftProvider()
    if name == "runcomfy":
        from lipsync_site.providers.runcomfy import RunComfyProvider

        return RunComfyProvider()
    if name == "nemovideo":
        from lipsync_site.providers.nemovideo import NemoVideoProvider

        return NemoVideoProvider()
    raise LookupError(f"no provider adapter named {name!r}")
