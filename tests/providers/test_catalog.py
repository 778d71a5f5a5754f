"""The route catalog: the seed's routes as data, admin overrides, simulated marking."""

import pytest

from lipsync_site.providers import catalog, routes
from lipsync_site.providers.catalog import InputShape, Tier
from lipsync_site.providers.models import RouteOverride
from lipsync_site.providers.runcomfy import BODY_BUILDERS

SEED_MODEL_IDS = {
    "sync-v2-pro": "sync/sync/lipsync/v2/pro",
    "sync-v2": "sync/sync/lipsync/v2",
    "kling-lipsync-audio": "kling/kling/lipsync/audio-to-video",
    "kling-lipsync-text": "kling/kling/lipsync/text-to-video",
    "creatify-lipsync": "creatify/lipsync",
    "omnihuman": "bytedance/omnihuman/api",
    "wan-2-7-audio": "wan-ai/wan-2-7/text-to-video",
    "happyhorse-t2v": "happyhorse/happyhorse-1-0/text-to-video",
    "happyhorse-i2v": "happyhorse/happyhorse-1-0/image-to-video",
}


def test_every_seed_route_is_in_the_catalog_with_its_model_id():
    for route_id, model_id in SEED_MODEL_IDS.items():
        route = catalog.catalog_route(route_id)
        assert route.provider == "runcomfy"
        assert route.model_id == model_id
        assert route.pick_for and route.avoid_for


def test_local_draft_route_keeps_its_values():
    route = catalog.catalog_route("local-draft")
    assert (route.provider, route.model_id, route.tier) == ("local", "local/draft", Tier.DRAFT)
    assert (route.credits_per_second, route.minimum_credits) == (1, 5)


def test_nemovideo_is_a_route():
    route = catalog.catalog_route("nemovideo-lipsync")
    assert route.provider == "nemovideo"
    assert route.shapes == (InputShape.VIDEO_AUDIO,)


def test_every_remote_route_has_a_body_builder():
    for route in catalog.ROUTES:
        if route.provider == "runcomfy":
            assert route.body in BODY_BUILDERS, route.id


def test_prices_follow_the_public_scale():
    assert catalog.catalog_route("sync-v2").credits_per_second == 5
    assert catalog.catalog_route("sync-v2-pro").credits_per_second == 8
    assert catalog.catalog_route("sync-v2").estimate_credits(1) == 25  # the minimum
    assert catalog.catalog_route("sync-v2").estimate_credits(10.2) == 55  # whole seconds, rounded up


def test_kling_limits_from_the_contract():
    route = catalog.catalog_route("kling-lipsync-audio")
    assert (route.min_duration_seconds, route.max_duration_seconds) == (2.0, 10.0)
    assert (route.min_side_px, route.max_side_px) == (720, 1920)
    assert route.max_audio_bytes == 5 * 1024 * 1024
    assert catalog.catalog_route("kling-lipsync-text").max_text_chars == 120


def test_unknown_route_is_a_lookup_error():
    with pytest.raises(LookupError):
        routes.get_route("nope")


def test_every_shape_has_routes_and_inputs():
    for shape in InputShape.values:
        assert catalog.SHAPE_INPUTS[shape]
        assert [route for route in catalog.ROUTES if shape in route.shapes], shape


@pytest.mark.django_db
def test_admin_override_changes_price_and_switches_a_route_off():
    RouteOverride.objects.create(route_id="sync-v2", credits_per_second=6, minimum_credits=30)
    RouteOverride.objects.create(route_id="creatify-lipsync", enabled=False)

    route = routes.get_route("sync-v2")
    assert (route.credits_per_second, route.minimum_credits) == (6, 30)
    assert route.estimate_credits(10) == 60
    assert catalog.catalog_route("sync-v2").credits_per_second == 5

    assert routes.get_route("creatify-lipsync").enabled is False
    offered = [route.id for route in routes.available_routes(InputShape.VIDEO_AUDIO)]
    assert "creatify-lipsync" not in offered and "sync-v2" in offered
    assert [route.id for route in routes.available_routes(InputShape.VIDEO_AUDIO)] == offered


@pytest.mark.django_db
def test_override_with_empty_price_keeps_the_catalog_price():
    RouteOverride.objects.create(route_id="omnihuman", enabled=True)
    assert routes.get_route("omnihuman").credits_per_second == 16


def test_without_a_database_the_catalog_still_answers():
    # Not marked django_db: the override lookup is refused and the shipped values stand.
    assert routes.get_route("sync-v2").credits_per_second == 5


def test_routes_are_simulated_without_keys(settings):
    settings.RUNCOMFY_API_KEY = ""
    settings.NEMO_TOKEN = ""
    settings.NEMO_ANONYMOUS = False
    assert routes.is_simulated(catalog.catalog_route("sync-v2"))
    assert routes.is_simulated(catalog.catalog_route("nemovideo-lipsync"))
    assert not routes.is_simulated(catalog.catalog_route("local-draft"))
    settings.RUNCOMFY_API_KEY = "rc-key-000000000"
    settings.NEMO_ANONYMOUS = True
    assert not routes.is_simulated(catalog.catalog_route("sync-v2"))
    assert not routes.is_simulated(catalog.catalog_route("nemovideo-lipsync"))


def test_without_simulators_a_keyless_provider_is_not_offered(settings):
    settings.PROVIDER_SIMULATORS = False
    settings.RUNCOMFY_API_KEY = ""
    settings.NEMO_TOKEN = ""
    settings.NEMO_ANONYMOUS = False
    assert [route.id for route in routes.available_routes()] == ["local-draft"]
    settings.RUNCOMFY_API_KEY = "rc-key-000000000"
    assert "sync-v2" in [route.id for route in routes.available_routes(InputShape.VIDEO_AUDIO)]
