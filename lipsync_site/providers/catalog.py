"""The route catalog: data, not logic.

Every model id, field and limit lives here so a correction is a one-line change. Prices
are in credits (1 credit = $0.01) per second of output, with a minimum per job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db import models


class InputShape(models.TextChoices):
    VIDEO_AUDIO = "video_audio", "Source video + voice audio (mouth swap)"
    PORTRAIT_AUDIO = "portrait_audio", "Portrait + voice audio (talking head)"
    VIDEO_SCRIPT = "video_script", "Source video + script"
    SCRIPT = "script", "Script or prompt only"


class Tier(models.TextChoices):
    PREMIUM = "premium", "Premium"
    STANDARD = "standard", "Standard"
    DRAFT = "draft", "Draft"


@dataclass(frozen=True)
class Route:
    id: str
    label: str
    provider: str  # "local", "runcomfy", "nemovideo"
    model_id: str
    shapes: tuple[str, ...]
    tier: str
    credits_per_second: int
    minimum_credits: int
    max_duration_seconds: float = 600.0
    min_duration_seconds: float = 0.0
    max_input_bytes: int | None = None
    mismatch_modes: tuple[str, ...] = ()  # modes the provider does itself
    pick_for: str = ""
    avoid_for: str = ""
    limits: dict = field(default_factory=dict)

    def estimate_credits(self, output_seconds: float) -> int:
        return max(self.minimum_credits, math.ceil(output_seconds) * self.credits_per_second)


ROUTES: tuple[Route, ...] = (
    Route(
        id="local-draft",
        label="Local draft",
        provider="local",
        model_id="local/draft",
        shapes=(InputShape.VIDEO_AUDIO, InputShape.PORTRAIT_AUDIO),
        tier=Tier.DRAFT,
        credits_per_second=1,
        minimum_credits=5,
        max_duration_seconds=300.0,
        mismatch_modes=("cut_off", "loop", "bounce", "silence"),
        pick_for="Checking timing and framing before paying for a premium route; free of network and keys.",
        avoid_for="Delivery: the mouth motion is a signal-processing draft, not a learned model.",
    ),
)

_BY_ID = {route.id: route for route in ROUTES}


def get_route(route_id: str) -> Route:
    try:
        return _BY_ID[route_id]
    except KeyError:
        raise LookupError(f"unknown route {route_id!r}") from None


def routes_for_shape(shape: str) -> list[Route]:
    return [route for route in ROUTES if shape in route.shapes]
