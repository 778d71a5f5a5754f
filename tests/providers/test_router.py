"""The router: the seed's pick for shape, tier and budget, and the fit of each route."""

import pytest

from lipsync_site.providers import catalog, routes
from lipsync_site.providers.catalog import InputShape, Tier
from lipsync_site.providers.models import RouteOverride
from lipsync_site.providers.router import ProbeFacts, choose_route, fit_problems

SHORT_CLIP = ProbeFacts(video_seconds=6.0, audio_seconds=6.0, width=1280, height=720)


@pytest.mark.parametrize(
    ("shape", "tier", "facts", "expected"),
    [
        (InputShape.VIDEO_AUDIO, Tier.PREMIUM, SHORT_CLIP, "sync-v2-pro"),
        (InputShape.VIDEO_AUDIO, Tier.STANDARD, SHORT_CLIP, "sync-v2"),
        (InputShape.VIDEO_AUDIO, Tier.DRAFT, SHORT_CLIP, "sync-v2"),
        (InputShape.PORTRAIT_AUDIO, Tier.PREMIUM, ProbeFacts(audio_seconds=8, width=800, height=800), "omnihuman"),
        (InputShape.VIDEO_SCRIPT, Tier.STANDARD, ProbeFacts(video_seconds=5, text_chars=60), "kling-lipsync-text"),
        (InputShape.SCRIPT, Tier.PREMIUM, ProbeFacts(text_chars=80, output_seconds=5), "happyhorse-t2v"),
        (
            InputShape.SCRIPT,
            Tier.STANDARD,
            ProbeFacts(text_chars=80, audio_seconds=6, output_seconds=6),
            "wan-2-7-audio",
        ),
        (InputShape.PORTRAIT_SCRIPT, Tier.PREMIUM, ProbeFacts(text_chars=80), "happyhorse-i2v"),
    ],
)
def test_the_seeds_pick(shape, tier, facts, expected):
    choice = choose_route(shape, tier, facts=facts)
    assert choice.route.id == expected
    assert choice.reason
    assert choice.route.id in [alternative.route.id for alternative in choice.alternatives]


def test_alternatives_are_every_route_for_the_shape_with_fit():
    choice = choose_route(InputShape.VIDEO_AUDIO, Tier.PREMIUM, facts=ProbeFacts(video_seconds=30, audio_seconds=30))
    by_id = {route.id: (fits, why) for route, fits, why in choice.alternatives}
    assert set(by_id) == {route.id for route in catalog.ROUTES if InputShape.VIDEO_AUDIO in route.shapes}
    assert by_id["sync-v2-pro"] == (True, "")
    assert by_id["kling-lipsync-audio"][0] is False
    assert "10 seconds" in by_id["kling-lipsync-audio"][1]


def test_budget_drops_to_the_next_route_and_says_why():
    # 20 s: Pro costs 160, sync v2 costs 100.
    choice = choose_route(InputShape.VIDEO_AUDIO, Tier.PREMIUM, budget_credits=120, facts=ProbeFacts(audio_seconds=20))
    assert choice.route.id == "sync-v2"
    assert "160 credits" in choice.reason


def test_nothing_within_budget_names_no_route_but_explains():
    choice = choose_route(InputShape.PORTRAIT_AUDIO, Tier.PREMIUM, budget_credits=1, facts=ProbeFacts(audio_seconds=20))
    assert choice.route is None
    assert "budget" in choice.reason
    assert all(not alternative.fits for alternative in choice.alternatives)


@pytest.mark.django_db
def test_a_disabled_route_is_never_picked_nor_offered():
    RouteOverride.objects.create(route_id="sync-v2-pro", enabled=False)
    choice = choose_route(InputShape.VIDEO_AUDIO, Tier.PREMIUM, facts=SHORT_CLIP)
    assert choice.route.id == "sync-v2"
    assert "sync-v2-pro" not in [alternative.route.id for alternative in choice.alternatives]


def test_fit_problems_duration_resolution_size_and_text():
    kling = routes.get_route("kling-lipsync-audio")
    assert fit_problems(kling, ProbeFacts(video_seconds=5, audio_seconds=5, width=1280, height=720)) == []
    problems = fit_problems(
        kling,
        ProbeFacts(
            video_seconds=12, audio_seconds=1, width=640, height=360, video_bytes=200 * 1024**2, audio_bytes=6 * 1024**2
        ),
    )
    text = " ".join(problems)
    assert "at least 2 seconds" in text
    assert "source videos up to 10 seconds" in text
    assert "720 px" in text
    assert "video files up to 100 MB" in text
    assert "voice files up to 5 MB" in text

    kling_text = routes.get_route("kling-lipsync-text")
    assert "120 characters" in " ".join(fit_problems(kling_text, {"text_chars": 150, "video_seconds": 5}))


def test_generated_routes_check_the_requested_length_and_voice():
    wan = routes.get_route("wan-2-7-audio")
    assert fit_problems(wan, ProbeFacts(output_seconds=20)) == [
        "Wan 2.7 text-to-video with voice makes clips of 2 to 15 seconds."
    ]
    assert "at least 3 seconds" in " ".join(fit_problems(wan, ProbeFacts(audio_seconds=1, output_seconds=5)))
    happyhorse = routes.get_route("happyhorse-t2v")
    assert "cannot use your recording" in " ".join(fit_problems(happyhorse, ProbeFacts(audio_seconds=5)))


def test_too_long_for_every_route_suggests_nothing_but_says_why():
    choice = choose_route(InputShape.VIDEO_SCRIPT, Tier.STANDARD, facts=ProbeFacts(video_seconds=60, text_chars=20))
    assert choice.route is None
    assert "10 seconds" in choice.reason
