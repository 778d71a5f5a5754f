"""The router: input shape + tier + budget -> the route the seed recommends, and why.

The form shows the pick with its reason and lets the user choose any other route that
fits the inputs; ``fit_problems`` says why a route does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from lipsync_site.providers import routes
from lipsync_site.providers.catalog import InputShape, Route, Tier
from lipsync_site.providers.speech import language_name


@dataclass(frozen=True)
class ProbeFacts:
    """What intake learned about the inputs (all optional: unknown facts are not checked).

    ``output_seconds`` is the requested length for generated clips (script routes).
    """

    video_seconds: float | None = None
    audio_seconds: float | None = None
    width: int | None = None  # of the source video or the portrait
    height: int | None = None
    video_bytes: int | None = None
    image_bytes: int | None = None
    audio_bytes: int | None = None
    text_chars: int | None = None
    text_language: str | None = None  # the script's language (providers.speech)
    output_seconds: float | None = None

    @classmethod
    def from_dict(cls, values: dict) -> ProbeFacts:
        return cls(**{key: values[key] for key in cls.__dataclass_fields__ if values.get(key) is not None})


@dataclass(frozen=True)
class Alternative:
    route: Route
    fits: bool
    reason_if_not: str = ""

    # Unpacks as (route, fits, reason_if_not).
    def __iter__(self):
        return iter((self.route, self.fits, self.reason_if_not))


@dataclass(frozen=True)
class RouteChoice:
    route: Route | None  # None when no enabled route takes these inputs
    reason: str  # the whole explanation: why this route, and why the better ones were passed over
    alternatives: list[Alternative] = field(default_factory=list)
    why: str = ""  # why this route, alone (the form lists the others with their own reasons)
    passed_over: tuple[str, ...] = ()  # why each better-ranked route was not picked


# The seed's recommendation, best first, per shape and tier. Data, like the catalog.
_PREFERENCES: dict[tuple[str, str], tuple[str, ...]] = {
    (InputShape.VIDEO_AUDIO, Tier.PREMIUM): (
        "sync-v2-pro",
        "sync-direct-2-pro",
        "sync-v2",
        "sync-direct-2",
        "kling-lipsync-audio",
        "creatify-lipsync",
        "nemovideo-lipsync",
        "local-draft",
    ),
    (InputShape.VIDEO_AUDIO, Tier.STANDARD): (
        "sync-v2",
        "sync-direct-2",
        "kling-lipsync-audio",
        "creatify-lipsync",
        "nemovideo-lipsync",
        "sync-v2-pro",
        "sync-direct-2-pro",
        "local-draft",
    ),
    (InputShape.VIDEO_AUDIO, Tier.DRAFT): (
        "sync-v2",
        "sync-direct-2",
        "local-draft",
        "kling-lipsync-audio",
        "creatify-lipsync",
        "nemovideo-lipsync",
    ),
    (InputShape.PORTRAIT_AUDIO, Tier.PREMIUM): ("omnihuman", "local-draft"),
    (InputShape.PORTRAIT_AUDIO, Tier.STANDARD): ("omnihuman", "local-draft"),
    (InputShape.PORTRAIT_AUDIO, Tier.DRAFT): ("local-draft", "omnihuman"),
    (InputShape.VIDEO_SCRIPT, Tier.PREMIUM): ("kling-lipsync-text",),
    (InputShape.VIDEO_SCRIPT, Tier.STANDARD): ("kling-lipsync-text",),
    (InputShape.VIDEO_SCRIPT, Tier.DRAFT): ("kling-lipsync-text",),
    (InputShape.SCRIPT, Tier.PREMIUM): ("happyhorse-t2v", "wan-2-7-audio"),
    (InputShape.SCRIPT, Tier.STANDARD): ("happyhorse-t2v", "wan-2-7-audio"),
    (InputShape.SCRIPT, Tier.DRAFT): ("wan-2-7-audio", "happyhorse-t2v"),
    (InputShape.PORTRAIT_SCRIPT, Tier.PREMIUM): ("happyhorse-i2v",),
    (InputShape.PORTRAIT_SCRIPT, Tier.STANDARD): ("happyhorse-i2v",),
    (InputShape.PORTRAIT_SCRIPT, Tier.DRAFT): ("happyhorse-i2v",),
}
# A script with a voice recording: Wan is the route whose mouth follows that recording.
_SCRIPT_WITH_AUDIO = ("wan-2-7-audio", "happyhorse-t2v")

_WHY = {
    "sync-v2-pro": _("Sync v2 Pro is the premium default for mouth swap on existing footage."),
    "sync-v2": _("Sync v2 is the standard route for batch and draft mouth swaps."),
    "sync-direct-2-pro": _("Sync lipsync-2-pro, straight from Sync Labs, is the premium mouth swap."),
    "sync-direct-2": _("Sync lipsync-2, straight from Sync Labs, is the standard mouth swap."),
    "omnihuman": _("OmniHuman is the default for a talking portrait."),
    "kling-lipsync-text": _("Kling lip-sync (script) speaks your script over your source video."),
    "happyhorse-t2v": _("HappyHorse generates the clip and speaks your script in the same pass."),
    "happyhorse-i2v": _("HappyHorse animates the portrait and speaks your script in the same pass."),
    "wan-2-7-audio": _("Wan 2.7 builds the scene from your prompt and drives the mouth from your voice track."),
    "local-draft": _("The local draft is the cheapest way to check timing and framing."),
}


def _mb(value: int) -> str:
    return gettext("%(mb).0f MB") % {"mb": value / (1024 * 1024)}


def fit_problems(route: Route, facts: ProbeFacts | dict | None) -> list[str]:
    """Why ``route`` cannot take these inputs (empty when it can), from the catalog's limits."""
    if facts is None:
        return []
    if isinstance(facts, dict):
        facts = ProbeFacts.from_dict(facts)
    problems: list[str] = []
    has_audio = facts.audio_seconds is not None or facts.audio_bytes is not None
    if route.is_generated:
        low, high = route.output_seconds_range
        if facts.output_seconds is not None and not low <= facts.output_seconds <= high:
            problems.append(
                gettext("%(route)s makes clips of %(low)s to %(high)s seconds.")
                % {"route": route.label, "low": f"{low:g}", "high": f"{high:g}"}
            )
    else:
        # The length that drives the output: the voice when there is one, else the video.
        driving = facts.audio_seconds if facts.audio_seconds is not None else facts.video_seconds
        if driving is not None and driving > route.max_duration_seconds:
            problems.append(
                gettext("%(route)s takes up to %(max)s seconds; yours is %(yours).1f.")
                % {"route": route.label, "max": f"{route.max_duration_seconds:g}", "yours": driving}
            )
        if driving is not None and driving < route.min_duration_seconds:
            problems.append(
                gettext("%(route)s needs at least %(min)s seconds; yours is %(yours).1f.")
                % {"route": route.label, "min": f"{route.min_duration_seconds:g}", "yours": driving}
            )
        video = facts.video_seconds
        if video is not None and video != driving and "video" in route.needs and video > route.max_duration_seconds:
            problems.append(
                gettext("%(route)s takes source videos up to %(max)s seconds.")
                % {"route": route.label, "max": f"{route.max_duration_seconds:g}"}
            )
    if has_audio and "audio" not in route.needs and "audio" not in route.optional_inputs:
        problems.append(
            gettext("%(route)s makes its own voice; it cannot use your recording.") % {"route": route.label}
        )
    if facts.audio_seconds is not None:
        if route.max_audio_seconds is not None and facts.audio_seconds > route.max_audio_seconds:
            problems.append(
                gettext("%(route)s takes voice tracks up to %(max)s seconds.")
                % {"route": route.label, "max": f"{route.max_audio_seconds:g}"}
            )
        if route.min_audio_seconds is not None and facts.audio_seconds < route.min_audio_seconds:
            problems.append(
                gettext("%(route)s needs a voice track of at least %(min)s seconds.")
                % {"route": route.label, "min": f"{route.min_audio_seconds:g}"}
            )
    if (
        facts.audio_bytes is not None
        and route.max_audio_bytes is not None
        and facts.audio_bytes > route.max_audio_bytes
    ):
        problems.append(
            gettext("%(route)s takes voice files up to %(size)s.")
            % {"route": route.label, "size": _mb(route.max_audio_bytes)}
        )
    for size, what, message in (
        (facts.video_bytes, "video", gettext_lazy("%(route)s takes video files up to %(size)s.")),
        (facts.image_bytes, "image", gettext_lazy("%(route)s takes image files up to %(size)s.")),
    ):
        cap = route.limits.get(f"max_{what}_bytes", route.max_input_bytes)
        if size is not None and cap is not None and size > cap:
            problems.append(message % {"route": route.label, "size": _mb(cap)})
    if facts.width is not None and facts.height is not None:
        short, long = sorted((facts.width, facts.height))
        if route.min_side_px is not None and short < route.min_side_px:
            problems.append(
                gettext("%(route)s needs a picture of at least %(px)d px on its short side.")
                % {"route": route.label, "px": route.min_side_px}
            )
        if route.max_side_px is not None and long > route.max_side_px:
            problems.append(
                gettext("%(route)s takes pictures up to %(px)d px on the long side.")
                % {"route": route.label, "px": route.max_side_px}
            )
        aspect_range = route.limits.get("aspect_range")
        if aspect_range and facts.height:
            low, high = aspect_range
            if not low <= facts.width / facts.height <= high:
                problems.append(
                    gettext("%(route)s takes pictures from 1:%(tall)s (tall) to %(wide)s:1 (wide); yours is %(size)s.")
                    % {
                        "route": route.label,
                        "tall": f"{1 / low:g}",
                        "wide": f"{high:g}",
                        "size": f"{facts.width}x{facts.height}",
                    }
                )
    speaks = route.speech_languages and not (has_audio and "audio" in route.optional_inputs)
    if speaks and facts.text_language and facts.text_language not in route.speech_languages:
        problems.append(
            gettext("%(route)s cannot speak %(language)s: its voices speak %(languages)s.")
            % {
                "route": route.label,
                "language": language_name(facts.text_language),
                "languages": gettext(" and ").join(language_name(code) for code in route.speech_languages),
            }
        )
    if facts.text_chars is not None and route.max_text_chars is not None and facts.text_chars > route.max_text_chars:
        problems.append(
            gettext("%(route)s takes scripts up to %(max)d characters; yours has %(yours)d.")
            % {"route": route.label, "max": route.max_text_chars, "yours": facts.text_chars}
        )
    return problems


def output_seconds_for(route: Route, facts: ProbeFacts | None, requested: float | None = None) -> float:
    """The output length a job on ``route`` will be priced for."""
    if route.is_generated:
        low, high = route.output_seconds_range
        wanted = requested or (facts.output_seconds if facts else None) or route.defaults.get("duration") or low
        return min(high, max(low, wanted))
    if facts is None:
        return requested or 0.0
    return requested or facts.audio_seconds or facts.video_seconds or 0.0


def choose_route(
    shape: str,
    tier: str = Tier.PREMIUM,
    budget_credits: int | None = None,
    output_seconds: float | None = None,
    facts: ProbeFacts | dict | None = None,
) -> RouteChoice:
    """The seed's pick for these inputs, with the reason, and every route for the shape.

    Walks the preference list for (shape, tier) and takes the first enabled route that
    fits the inputs and the budget. When none fits the budget, the best route that fits
    the inputs is still named with the reason, so the form can say what it would cost.
    """
    if isinstance(facts, dict):
        facts = ProbeFacts.from_dict(facts)
    candidates = routes.available_routes(shape)
    by_id = {route.id: route for route in candidates}
    has_audio = facts is not None and (facts.audio_seconds is not None or facts.audio_bytes is not None)
    order = _SCRIPT_WITH_AUDIO if shape == InputShape.SCRIPT and has_audio else _PREFERENCES.get((shape, tier), ())
    ranked = [by_id[route_id] for route_id in order if route_id in by_id]
    ranked += [route for route in candidates if route not in ranked]

    alternatives: list[Alternative] = []
    skipped: list[str] = []
    pick: Route | None = None
    for route in ranked:
        problems = fit_problems(route, facts)
        seconds = output_seconds_for(route, facts, output_seconds)
        cost = route.estimate_credits(seconds)
        if not problems and budget_credits is not None and cost > budget_credits:
            problems.append(
                gettext("%(route)s would cost about %(cost)d credits; your budget is %(budget)d.")
                % {"route": route.label, "cost": cost, "budget": budget_credits}
            )
        alternatives.append(Alternative(route, not problems, " ".join(problems)))
        if pick is None and not problems:
            pick = route
        elif pick is None:
            skipped.append(problems[0])  # each problem names its route

    if pick is None:
        if not ranked:
            return RouteChoice(None, gettext("No route is available for these inputs."), alternatives)
        return RouteChoice(
            None,
            gettext("No route fits these inputs and budget.")
            + " "
            + " ".join(a.reason_if_not for a in alternatives[:2]),
            alternatives,
        )
    why = str(_WHY[pick.id]) if pick.id in _WHY else f"{pick.label}: {pick.pick_for}"
    reason = why + (" " + gettext("Not picked:") + " " + " ".join(skipped) if skipped else "")
    return RouteChoice(pick, reason, alternatives, why=why, passed_over=tuple(skipped))
