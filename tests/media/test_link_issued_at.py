"""Provider links issued at a given moment are reproducible (a provider that dedupes a
resent request by idempotency key compares its input URLs) and expire from that moment."""

import time

import pytest

from lipsync_site.media import links
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(owner, clip):
    return factories.stored_file(owner, clip, "video")


def test_the_same_moment_gives_the_same_token(asset):
    issued = time.time() - 30
    first = links.make_token(asset, links.Purpose.PROVIDER, job_id="j1", issued_at=issued)
    time.sleep(1.1)
    assert links.make_token(asset, links.Purpose.PROVIDER, job_id="j1", issued_at=issued) == first
    assert links.read_token(first, links.Purpose.PROVIDER).job_id == "j1"
    assert links.make_token(asset, links.Purpose.PROVIDER, job_id="j1") != first  # issued now


def test_a_token_issued_long_ago_has_expired(asset, settings):
    settings.PROVIDER_LINK_MAX_AGE_SECONDS = 3600
    old = links.make_token(asset, links.Purpose.PROVIDER, job_id="j1", issued_at=time.time() - 3601)
    with pytest.raises(links.InvalidLink):
        links.read_token(old, links.Purpose.PROVIDER)
