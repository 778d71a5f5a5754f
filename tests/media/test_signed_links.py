"""Signed media links: bound to owner, purpose and revocation counter; Range for seeking."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lipsync_site.media import links
from lipsync_site.media.services import revoke_links, store_upload
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(owner, clip):
    return store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("clip.mp4", clip.read_bytes()),
        kind="video",
    )


def body(response):
    return b"".join(response.streaming_content)


def test_owner_streams_whole_file_inline(owner_client, owner, asset):
    response = owner_client.get(links.user_url(asset, links.Purpose.VIEW, user=owner))
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response) == asset.file.open("rb").read()


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", -50, None), ("bytes=10-999999999", 10, None)],
)
def test_range_request_returns_exactly_those_bytes(owner_client, owner, asset, header, start, end):
    whole = asset.file.open("rb").read()
    response = owner_client.get(links.user_url(asset, links.Purpose.VIEW, user=owner), headers={"Range": header})
    assert response.status_code == 206
    expected = whole[start:] if end is None else whole[start : end + 1]
    assert body(response) == expected
    first = start if start >= 0 else len(whole) + start
    assert response["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"
    assert response["Content-Length"] == str(len(expected))


def test_unsatisfiable_range_is_416(owner_client, owner, asset):
    response = owner_client.get(
        links.user_url(asset, links.Purpose.VIEW, user=owner), headers={"Range": f"bytes={asset.size_bytes}-"}
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{asset.size_bytes}"


def test_download_purpose_is_an_attachment(owner_client, owner, asset):
    response = owner_client.get(links.user_url(asset, links.Purpose.DOWNLOAD, user=owner))
    assert response["Content-Disposition"].startswith("attachment")


def test_tampered_link_is_404(owner_client, owner, asset):
    url = links.user_url(asset, links.Purpose.VIEW, user=owner)
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = url.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert owner_client.get(tampered).status_code == 404


def test_link_of_one_purpose_does_not_work_for_another(owner_client, owner, asset):
    url = links.user_url(asset, links.Purpose.VIEW, user=owner)
    assert owner_client.get(url.replace("/view/", "/download/")).status_code == 404


def test_expired_link_is_404(owner_client, owner, asset, settings):
    url = links.user_url(asset, links.Purpose.VIEW, user=owner)
    assert owner_client.get(url).status_code == 200
    settings.SIGNED_LINK_MAX_AGE_SECONDS = -1  # every link is now older than the limit
    assert owner_client.get(url).status_code == 404


def test_another_users_link_is_404_even_signed_in(client, owner, outsider, asset):
    url = links.user_url(asset, links.Purpose.VIEW, user=owner)
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_signed_out_is_404(client, owner, asset):
    assert client.get(links.user_url(asset, links.Purpose.VIEW, user=owner)).status_code == 404


def test_revoked_link_is_404(owner_client, owner, asset):
    url = links.user_url(asset, links.Purpose.VIEW, user=owner)
    revoke_links(asset_ids=[asset.pk])
    assert owner_client.get(url).status_code == 404


def test_same_content_uploaded_twice_is_stored_once(owner, clip):
    first = store_upload(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("a.mp4", clip.read_bytes()), kind="video"
    )
    second = store_upload(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("b.mov", clip.read_bytes()), kind="video"
    )
    assert first.pk == second.pk
