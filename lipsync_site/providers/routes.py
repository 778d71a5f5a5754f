"""The catalog as offered: shipped routes with the admin's overrides applied, and which
of them run against a loopback simulator (no key configured)."""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import DatabaseError

from lipsync_site.providers.catalog import ROUTES, Route, catalog_route
from lipsync_site.providers.models import RouteOverride

logger = logging.getLogger(__name__)


def _overrides() -> dict[str, RouteOverride]:
    try:
        return {override.route_id: override for override in RouteOverride.objects.all()}
    except (DatabaseError, RuntimeError) as exc:
        # No table yet (before migrate) or no database in this context: shipped values.
        logger.debug("route overrides unavailable: %s", type(exc).__name__)
        return {}


def _apply(route: Route, override) -> Route:
    if override is None:
        return route
    changes: dict[str, object] = {"enabled": override.enabled}
    if override.credits_per_second is not None:
        changes["credits_per_second"] = override.credits_per_second
    if override.minimum_credits is not None:
        changes["minimum_credits"] = override.minimum_credits
    return dataclasses.replace(route, **changes)


def get_route(route_id: str) -> Route:
    """The route with the admin's price and on/off applied. Disabled routes are still
    returned (``route.enabled`` is False) so existing jobs can be tracked and collected."""
    route = catalog_route(route_id)
    return _apply(route, _overrides().get(route_id))


def all_routes() -> list[Route]:
    """Every route with overrides applied, enabled or not (for the admin)."""
    overrides = _overrides()
    return [_apply(route, overrides.get(route.id)) for route in ROUTES]


def available_routes(shape: str | None = None) -> list[Route]:
    """Routes to offer (overrides applied), those taking ``shape`` when given: enabled, and
    runnable (a simulated route only where simulators are allowed, ``PROVIDER_SIMULATORS``)."""
    return [
        route
        for route in all_routes()
        if route.enabled
        and (shape is None or shape in route.shapes)
        and (settings.PROVIDER_SIMULATORS or not is_simulated(route))
    ]


def is_simulated(route: Route) -> bool:
    """True when the route runs against a loopback simulator (no key configured)."""
    if route.provider == "runcomfy":
        return not settings.RUNCOMFY_API_KEY
    if route.provider == "nemovideo":
        return not (settings.NEMO_TOKEN or settings.NEMO_ANONYMOUS)
    return False
