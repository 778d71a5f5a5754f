"""Attestations record exactly what was shown and answered, and never change."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lipsync_site.consent import texts
from lipsync_site.consent.models import Attestation
from lipsync_site.consent.services import ConsentMissing, record_attestation, review_required_before_running
from lipsync_site.media.services import store_evidence
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def attest(user, **overrides):
    values = {
        "user": user,
        "likeness_consent": True,
        "voice_provenance": "consented",
        "person_name": "  Ada Example ",
        "speaker_name": "Bo Speaker",
        "media_sha256": ["b" * 64, "a" * 64, "a" * 64],
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0 " + "x" * 500,
    }
    values.update(overrides)
    return record_attestation(**values)


def test_records_wording_version_answers_and_provenance(owner):
    attestation = attest(owner)
    assert attestation.text_version == texts.CURRENT_VERSION
    assert attestation.text_shown == texts.shown_text(texts.CURRENT_VERSION)
    for fragment in ("likeness", "public figure", "defame", "signed release", "The speaker consented"):
        assert fragment in attestation.text_shown
    assert attestation.answers == {
        "likeness_consent": True,
        "voice_provenance": "consented",
        "public_figure": False,
        "no_misuse": True,
        "person_name": "Ada Example",
        "speaker_name": "Bo Speaker",
        "evidence_sha256": "",
        "picture": "video",
        "voice": "recording",
    }
    assert attestation.media_sha256 == ["a" * 64, "b" * 64]
    assert attestation.ip_address == "203.0.113.9" and len(attestation.user_agent) == 400


def test_is_immutable(owner):
    attestation = attest(owner)
    attestation.person_name = "Someone Else"
    with pytest.raises(ValueError, match="immutable"):
        attestation.save()
    with pytest.raises(ValueError, match="immutable"):
        attestation.delete()
    assert Attestation.objects.get().person_name == "Ada Example"


def test_public_figure_needs_evidence_and_always_waits_for_review(owner, settings):
    settings.CONSENT_REVIEW_POLICY = "after"
    with pytest.raises(ConsentMissing, match="signed release"):
        attest(owner, public_figure=True)
    evidence = store_evidence(
        owner=owner, workspace=workspace_of(owner), upload=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n%%EOF")
    )
    attestation = attest(owner, public_figure=True, evidence=evidence)
    assert attestation.answers["evidence_sha256"] == evidence.sha256
    assert review_required_before_running(attestation)
    assert not review_required_before_running(attest(owner))


def test_policy_before_makes_every_job_wait(owner, settings):
    settings.CONSENT_REVIEW_POLICY = "before"
    assert review_required_before_running(attest(owner))


@pytest.mark.parametrize(
    "missing", [{"likeness_consent": False}, {"voice_provenance": ""}, {"person_name": " "}, {"no_misuse": False}]
)
def test_refuses_incomplete_consent(owner, missing):
    with pytest.raises(ConsentMissing):
        attest(owner, **missing)
    assert not Attestation.objects.exists()


def test_old_wording_versions_stay_readable():
    assert texts.shown_text("2026-11-v1").startswith(texts.LIKENESS_STATEMENT["2026-11-v1"])
