"""Probing runs in a time-limited subprocess: a slow or crashing reader never takes the
web process with it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lipsync_site.media.models import Asset
from lipsync_site.media.probe import MediaRejected, probe
from lipsync_site.media.services import store_upload
from lipsync_site.media.serving import SAFE_TYPES
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def test_a_probe_past_its_deadline_is_refused(clip):
    with pytest.raises(MediaRejected, match="took too long"):
        probe(clip, timeout=0.01)


def test_facts_survive_an_analysis_that_never_finishes(clip, monkeypatch):
    import subprocess

    real_run = subprocess.run

    def slow_analysis(command, **kwargs):
        # The worker prints the facts, then "hangs" in the analysis: simulate by timing out
        # with only the first line captured.
        completed = real_run(command, **kwargs)
        first = completed.stdout.splitlines()[0]
        raise subprocess.TimeoutExpired(command, kwargs.get("timeout"), output=first + b"\n")

    monkeypatch.setattr(subprocess, "run", slow_analysis)
    facts = probe(clip, analyse=True)
    assert facts.kind == "video" and facts.analysis == {"error": "The analysis took too long."}


def test_stored_media_is_never_served_as_something_a_browser_runs(owner_client, owner, clip):
    from lipsync_site.media import links

    assert not {"text/html", "image/svg+xml", "application/javascript", "text/xml"} & SAFE_TYPES
    asset = store_upload(
        owner=owner,
        workspace=workspace_of(owner),
        upload=SimpleUploadedFile("clip.mp4", clip.read_bytes()),
        kind="video",
    )
    Asset.objects.filter(pk=asset.pk).update(content_type="text/html")  # whatever a row says
    asset.refresh_from_db()
    for purpose in (links.Purpose.VIEW, links.Purpose.DOWNLOAD):
        response = owner_client.get(links.user_url(asset, purpose, user=owner))
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"]
        assert "sandbox" in response["Content-Security-Policy"]
