"""Every file of the generated corpus gets its expected outcome, and a refused file leaves
no file and no row. Hostile names are kept as text only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lipsync_site.media.models import Asset
from lipsync_site.media.names import clean_original_name
from lipsync_site.media.probe import MediaRejected
from lipsync_site.media.services import store_evidence, store_upload
from tests.factories import workspace_of
from tests.media.corpus import CASES, HOSTILE_NAMES

pytestmark = pytest.mark.django_db


def stored_files(settings):
    return [path for path in settings.MEDIA_ROOT.rglob("*") if path.is_file()]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_file_gets_its_expected_outcome(case, owner, tmp_path, settings):
    made = case.make(tmp_path / case.name)
    upload = SimpleUploadedFile(case.name, made.read_bytes(), content_type="application/octet-stream")
    if case.expect.startswith("ok:"):
        asset = store_upload(owner=owner, workspace=workspace_of(owner), upload=upload, kind=case.slot)
        assert asset.extension == case.expect[3:]
        assert asset.kind == case.slot and asset.sha256 and asset.size_bytes == made.stat().st_size
        assert asset.original_name == case.name
        assert asset.file.name.endswith(asset.extension) and case.name not in asset.file.name
        if case.slot in ("video", "audio"):
            assert asset.duration_seconds == pytest.approx(1.0, abs=0.15)
        if case.slot == "video":
            assert asset.width == 320 and asset.height == 240 and asset.frame_rate == pytest.approx(25, abs=1)
            assert asset.poster is not None and asset.poster.origin == Asset.Origin.DERIVED
        if case.slot == "audio":
            assert asset.sample_rate and asset.channels == 1
            assert asset.analysis["audio"]["active_fraction"] > 0.3
        if case.slot == "image":
            assert (asset.width, asset.height) == (64, 64)
    else:
        with pytest.raises(MediaRejected) as refused:
            store_upload(owner=owner, workspace=workspace_of(owner), upload=upload, kind=case.slot)
        assert case.expect in refused.value.message
        assert not Asset.objects.exists()
        assert not stored_files(settings)


def test_same_file_twice_is_stored_once(owner, clip):
    first = store_upload(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("a.mp4", clip.read_bytes()), kind="video"
    )
    second = store_upload(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("b.mp4", clip.read_bytes()), kind="video"
    )
    assert first.pk == second.pk
    assert Asset.objects.filter(origin=Asset.Origin.UPLOAD).count() == 1


def test_same_file_for_two_users_is_two_assets(owner, outsider, clip):
    mine = store_upload(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("a.mp4", clip.read_bytes()), kind="video"
    )
    theirs = store_upload(
        owner=outsider,
        workspace=workspace_of(outsider),
        upload=SimpleUploadedFile("a.mp4", clip.read_bytes()),
        kind="video",
    )
    assert mine.pk != theirs.pk


@pytest.mark.parametrize(("name", "kept"), HOSTILE_NAMES, ids=["traversal", "nul", "rtl", "long", "cjk"])
def test_hostile_names_are_text_never_paths(name, kept, owner, clip, settings):
    asset = store_upload(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile(name, clip.read_bytes()), kind="video"
    )
    if kept is not None:
        assert asset.original_name == kept
    assert len(asset.original_name) <= 255
    assert "/" not in asset.original_name and "\x00" not in asset.original_name
    assert "\u202e" not in asset.original_name
    assert len(asset.display_name) <= 48
    # Stored under a generated name inside MEDIA_ROOT.
    path = settings.MEDIA_ROOT / asset.file.name
    assert path.resolve().is_relative_to(settings.MEDIA_ROOT.resolve())
    assert asset.file.name.endswith(f"{asset.id.hex}.mp4")


def test_hostile_name_is_shown_escaped_and_shortened_on_the_form(owner_client, owner, clip):
    name = "<img src=x onerror=alert(1)>" + "x" * 80 + ".mp4"
    html = owner_client.post(
        reverse("jobs:new"),
        {"shape": "video_audio", "step": "check", "source_video": SimpleUploadedFile(name, clip.read_bytes())},
    ).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "…" in html


def test_clean_original_name_handles_windows_paths_and_controls():
    assert clean_original_name("C:\\Users\\me\\clip.mp4") == "clip.mp4"
    assert clean_original_name("a\tb\r\n.mp4") == "ab.mp4"
    assert clean_original_name("") == ""


def test_evidence_accepts_pdf_and_images_and_refuses_the_rest(owner, tmp_path, portrait):
    pdf = store_evidence(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("release.pdf", b"%PDF-1.7\nstuff\n%%EOF\n"),
    )
    assert pdf.kind == Asset.Kind.DOCUMENT and pdf.content_type == "application/pdf"
    png = store_evidence(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("release.png", portrait.read_bytes())
    )
    assert png.kind == Asset.Kind.IMAGE
    for name, data, message in [
        ("cut.pdf", b"%PDF-1.7\nno end", "truncated"),
        ("release.pdf", b"<html><script>1</script></html>", "web page"),
        ("empty.pdf", b"", "empty"),
    ]:
        with pytest.raises(MediaRejected, match=message):
            store_evidence(owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile(name, data))
