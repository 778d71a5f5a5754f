"""The quote: what the new-job form shows before any credit is held.

Which routes take the chosen shape, which of them fit the probed inputs (and why not),
what each would cost, and which one we suggest. A read-side selector: it changes nothing.
Creation (``jobs.services``) judges a route by the same functions, so the form and the
service never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_lazy

from lipsync_site.durations import seconds_words
from lipsync_site.media.mismatch import ALL_MODES, MismatchMode
from lipsync_site.media.models import Asset
from lipsync_site.media.preflight import durations_differ
from lipsync_site.media.render import output_seconds
from lipsync_site.providers import routes
from lipsync_site.providers.catalog import SHAPE_INPUTS, InputShape, Route, Tier
from lipsync_site.providers.router import choose_route, fit_problems
from lipsync_site.providers.speech import script_language

# Shapes that take a voice track when there is one without needing it.
OPTIONAL_AUDIO_SHAPES = frozenset({InputShape.SCRIPT})
# Shapes whose picture can be shared by several voices in one submission.
BATCH_SHAPES = frozenset({InputShape.VIDEO_AUDIO, InputShape.PORTRAIT_AUDIO})


def shape_inputs(shape: str) -> tuple[str, ...]:
    """The inputs a shape needs: "video", "image", "audio", "text"."""
    return SHAPE_INPUTS.get(shape, ())


def probe_facts(
    *, video: Asset | None, portrait: Asset | None, voice: Asset | None, text: str = "", seconds: float | None = None
) -> dict:
    """The facts a route's limits are checked against (the router's ProbeFacts keys)."""
    picture = video or portrait
    facts = {
        "video_seconds": video.duration_seconds if video else None,
        "audio_seconds": voice.duration_seconds if voice else None,
        "width": picture.width if picture else None,
        "height": picture.height if picture else None,
        "video_bytes": video.size_bytes if video else None,
        "image_bytes": portrait.size_bytes if portrait else None,
        "audio_bytes": voice.size_bytes if voice else None,
        "text_chars": len(text) if text else None,
        "text_language": script_language(text) if text else None,
        "output_seconds": seconds,
    }
    return {key: value for key, value in facts.items() if value is not None}


def preparable_modes(video: Asset | None, voice: Asset | None) -> set[str]:
    """Mismatch modes we can honour ourselves by preparing the voice before submitting
    (trim it to the video, or pad it with silence), for routes that cannot do them."""
    if video is None or voice is None or not durations_differ(video.duration_seconds, voice.duration_seconds):
        return set(ALL_MODES)  # nothing to fit: every mode gives the same result
    if (voice.duration_seconds or 0) > (video.duration_seconds or 0):
        return {MismatchMode.CUT_OFF}
    return {MismatchMode.SILENCE}


def mode_problem(route: Route, *, video: Asset | None, voice: Asset | None, mode: str) -> str:
    if video is None or voice is None or mode in route.mismatch_modes or mode in preparable_modes(video, voice):
        return ""
    doable = sorted(set(route.mismatch_modes) | preparable_modes(video, voice))
    return gettext("%(route)s cannot %(mode)s these lengths; choose %(doable)s.") % {
        "route": route.label,
        "mode": _mode_name(mode),
        "doable": gettext(" or ").join(_mode_name(name) for name in doable),
    }


def _mode_name(mode: str) -> str:
    """A fitting mode's short name ("cut off", "loop"), in the reader's language."""
    return str(MODE_NAMES.get(mode, mode.replace("_", " ")))


MODE_NAMES = {
    MismatchMode.CUT_OFF: gettext_lazy("cut off"),
    MismatchMode.LOOP: gettext_lazy("loop"),
    MismatchMode.BOUNCE: gettext_lazy("bounce"),
    MismatchMode.SILENCE: gettext_lazy("silence"),
    MismatchMode.REMAP: gettext_lazy("remap"),
}


def needs_preparation(route: Route, *, video: Asset | None, voice: Asset | None, mode: str) -> bool:
    return (
        video is not None
        and voice is not None
        and durations_differ(video.duration_seconds, voice.duration_seconds)
        and mode not in route.mismatch_modes
    )


def estimate_seconds(
    *, shape: str, video: Asset | None, voice: Asset | None, mismatch_mode: str, options: dict, route=None
) -> float:
    """The output length the price is based on, from the probed inputs."""
    seconds_range = getattr(route, "output_seconds_range", None)
    if seconds_range is not None:
        low, high = seconds_range
        return float(min(high, max(low, float(options.get("duration") or low))))
    if shape == InputShape.VIDEO_AUDIO and video and voice:
        return output_seconds(video.duration_seconds or 0.0, voice.duration_seconds or 0.0, mismatch_mode)
    if voice is not None and voice.duration_seconds:
        return voice.duration_seconds
    if video is not None and video.duration_seconds:
        return video.duration_seconds
    return float(options.get("duration", 5))


def fit_problems_for(
    route: Route, *, shape: str, video, portrait, voice, text: str, mismatch_mode: str, options: dict
) -> tuple[float, list[str]]:
    """(output seconds, why ``route`` cannot take these inputs): the one judgement of fit,
    for the form's offers and for creation alike."""
    seconds = estimate_seconds(
        shape=shape, video=video, voice=voice, mismatch_mode=mismatch_mode, options=options, route=route
    )
    problems = (
        []
        if shape in route.shapes
        else [gettext("%(route)s does not take this kind of input.") % {"route": route.label}]
    )
    facts = probe_facts(video=video, portrait=portrait, voice=voice, text=text, seconds=seconds)
    problems += fit_problems(route, facts)
    problems.append(mode_problem(route, video=video, voice=voice, mode=mismatch_mode))
    if seconds > route.max_duration_seconds and not any(problems):
        problems.append(
            gettext("The output would last %(seconds).0f s; %(route)s takes at most %(max).0f s.")
            % {"seconds": seconds, "route": route.label, "max": route.max_duration_seconds}
        )
    return seconds, [problem for problem in problems if problem]


@dataclass(frozen=True)
class RouteOffer:
    """A route of the chosen shape, for these inputs: its cost, or why it is not offered."""

    route: Route
    problems: tuple[str, ...]
    credits: int  # for the whole submission (every voice)
    seconds: tuple[float, ...]  # output length per job

    @property
    def fits(self) -> bool:
        return not self.problems

    @property
    def credits_each(self) -> tuple[int, ...]:
        return tuple(self.route.estimate_credits(seconds) for seconds in self.seconds)

    @property
    def seconds_words(self) -> str:
        """The output length of each job, "3.0 s + 4.5 s", in the reader's language."""
        return " + ".join(seconds_words(seconds, 1) for seconds in self.seconds)

    @property
    def simulated(self) -> bool:
        """No key for this provider: the route runs against the loopback simulator."""
        return routes.is_simulated(self.route)


def offer_routes(
    *,
    shape: str,
    video: Asset | None,
    portrait: Asset | None,
    voices: list[Asset],
    text: str = "",
    mismatch_mode: str = MismatchMode.CUT_OFF,
    options: dict | None = None,
) -> list[RouteOffer]:
    """Every route for the shape with its cost for these inputs, or why it does not fit."""
    options = options or {}
    offers = []
    for route in routes.available_routes(shape):
        problems: list[str] = []
        seconds_each = []
        for voice in voices or [None]:
            seconds, found = fit_problems_for(
                route,
                shape=shape,
                video=video,
                portrait=portrait,
                voice=voice,
                text=text,
                mismatch_mode=mismatch_mode,
                options=options,
            )
            seconds_each.append(seconds)
            problems += [problem for problem in found if problem not in problems]
        total = sum(route.estimate_credits(seconds) for seconds in seconds_each)
        offers.append(RouteOffer(route, tuple(problems), total, tuple(seconds_each)))
    return offers


SIMULATED_ELSEWHERE = gettext_lazy(
    "The cloud routes run against simulators here (no provider key is set) and return a placeholder video "
    "whose mouth does not move; this route produces a real lip-sync."
)


@dataclass(frozen=True)
class Suggestion:
    route: Route
    reason: str


def suggest_route(offers: list[RouteOffer], *, shape: str, facts: dict, budget: int | None) -> Suggestion | None:
    """The route the form preselects among those that fit.

    The router's pick for the shape when it fits and is affordable; otherwise the first
    affordable route in catalog order, otherwise the cheapest that fits, so the form can
    say what it would cost.
    """
    fitting = [offer for offer in offers if offer.fits]
    if not fitting:
        return None
    affordable = [offer for offer in fitting if budget is None or offer.credits <= budget]
    # A simulated route returns a placeholder whose mouth does not move: suggest a route that
    # produces a real result whenever one fits (with no keys, the local draft).
    real = [offer for offer in affordable if not offer.simulated]
    if affordable:
        choice = choose_route(shape, Tier.PREMIUM, facts=facts)
        picked = next((offer for offer in affordable if choice.route and offer.route.id == choice.route.id), None)
        if picked is not None and (not picked.simulated or not real):
            # The form lists the routes passed over with their own reasons: say only why this one.
            return Suggestion(choice.route, choice.why)
    if real:
        return Suggestion(real[0].route, str(SIMULATED_ELSEWHERE))
    offer = affordable[0] if affordable else min(fitting, key=lambda offer: offer.credits)
    return Suggestion(offer.route, str(offer.route.pick_for))


@dataclass(frozen=True)
class Quote:
    """Everything the form says about routes and cost for the inputs it has so far."""

    ready: bool  # every input the shape needs is there
    offers: list[RouteOffer]
    suggestion: Suggestion | None
    chosen: RouteOffer | None
    no_route: str  # why nothing can be offered, or ""

    @property
    def suggested(self) -> Route | None:
        return self.suggestion.route if self.suggestion else None


def quote(
    *,
    shape: str,
    offered: list[Route],
    ready: bool,
    video: Asset | None,
    portrait: Asset | None,
    voices: list[Asset],
    text: str,
    mismatch_mode: str,
    options: dict,
    wanted_route: str,
    budget: int,
) -> Quote:
    """The routes on offer for these inputs, the suggestion, and the route the user chose
    (``wanted_route``, or the suggestion; a chosen route that does not fit falls back to it)."""
    offers = (
        offer_routes(
            shape=shape,
            video=video,
            portrait=portrait,
            voices=voices,
            text=text,
            mismatch_mode=mismatch_mode,
            options=options,
        )
        if ready
        else []
    )
    facts = probe_facts(video=video, portrait=portrait, voice=voices[0] if voices else None, text=text)
    suggestion = suggest_route(offers, shape=shape, facts=facts, budget=budget)
    chosen_id = wanted_route or (suggestion.route.id if suggestion else "")
    chosen = next((offer for offer in offers if offer.route.id == chosen_id), None)
    if chosen is not None and not chosen.fits and suggestion is not None:
        chosen = next(offer for offer in offers if offer.route.id == suggestion.route.id)
    no_route = ""
    if not offered:
        no_route = (
            gettext("Script-only needs a cloud route, and none is available yet.")
            if shape == InputShape.SCRIPT
            else gettext("No route available for this shape yet.")
        )
    elif ready and suggestion is None:
        no_route = gettext("No route fits these inputs: see the reasons below.")
    return Quote(ready=ready, offers=offers, suggestion=suggestion, chosen=chosen, no_route=no_route)
