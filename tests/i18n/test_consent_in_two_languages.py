"""Consent wording is legal text, versioned, in English and Simplified Chinese: the
attestation records the language and the exact text shown, with its English beside it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from lipsync_site.consent import texts
from lipsync_site.consent.services import record_attestation
from lipsync_site.jobs.models import Job
from tests.jobs.test_end_to_end import form_data

pytestmark = pytest.mark.django_db


def test_the_current_wording_exists_in_both_languages_question_for_question():
    for picture, voice in [("video", "recording"), ("video", "generated"), ("portrait", "recording"),
                           ("portrait", "generated"), ("generated", "optional")]:  # fmt: skip
        english = texts.wording(picture, voice, language="en")
        chinese = texts.wording(picture, voice, language="zh-hans")
        assert chinese.language == "zh-hans" and english.language == "en"
        assert chinese.likeness != english.likeness and ("肖像" in chinese.likeness or "真实" in chinese.likeness)
        assert bool(chinese.voice_question) == bool(english.voice_question)
        assert [code for code, _ in chinese.voice_choices] == [code for code, _ in english.voice_choices]
        assert "公众人物" in chinese.public_figure


def test_versions_before_the_bilingual_one_stay_english_only():
    assert texts.wording(version="2026-12-v3", language="zh-hans").language == "en"
    assert texts.shown_text("2026-12-v3", language="zh-hans") == texts.shown_text("2026-12-v3")


def test_the_attestation_records_the_language_the_text_it_showed_and_its_english(owner):
    attestation = record_attestation(
        user=owner,
        likeness_consent=True,
        voice_provenance="own",
        person_name="李雷",
        media_sha256=["a" * 64],
        ip_address=None,
        user_agent="",
        language="zh-hans",
    )
    assert attestation.text_version == texts.CURRENT_VERSION
    assert attestation.text_language == "zh-hans"
    assert attestation.text_shown == texts.shown_text(language="zh-hans")
    assert "视频中出镜的人已同意" in attestation.text_shown and "( ) 是  ( ) 否" in attestation.text_shown
    assert attestation.text_shown_english == texts.shown_text(language="en")
    assert attestation.text_shown_english.startswith("[ ] The person shown in the video agreed")


def test_an_english_attestation_keeps_no_second_copy(owner):
    attestation = record_attestation(
        user=owner,
        likeness_consent=True,
        voice_provenance="own",
        person_name="Ada",
        media_sha256=["a" * 64],
        ip_address=None,
        user_agent="",
    )
    assert attestation.text_language == "en" and attestation.text_shown_english == ""


def test_a_job_made_in_chinese_is_attested_in_chinese_and_the_moderator_sees_both(owner, clip, voice):
    from django.contrib.auth.models import Group

    from lipsync_site.moderation.apps import MODERATORS_GROUP

    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    client = Client()
    client.force_login(owner)
    form = client.get(reverse("jobs:new")).content.decode()
    assert texts.wording(language="zh-hans").likeness in form
    response = client.post(reverse("jobs:new"), form_data(clip, voice, person_name="韩梅梅"))
    assert response.status_code == 302, response.content.decode()[:2000]
    attestation = Job.objects.get(owner=owner).attestation
    assert attestation.text_language == "zh-hans" and attestation.person_name == "韩梅梅"
    assert texts.wording(language="zh-hans").likeness in attestation.text_shown

    moderator = type(owner).objects.create_user("mod", password="pw", is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    moderation = Client()
    moderation.force_login(moderator)
    queue = moderation.get(reverse("admin:consent_attestation_queue")).content.decode()
    assert "shown in 简体中文" in queue or "shown in Simplified Chinese" in queue
    assert texts.wording(language="zh-hans").likeness in queue
    assert texts.wording(language="en").likeness in queue


def test_the_apis_consent_wording_follows_the_requests_language(team):
    from django.test import Client

    from lipsync_site.api.services import create_token

    token = create_token(
        workspace=team.workspace, created_by=team.owner, name="pipeline", scopes=["read"], expires_at=None
    )
    chinese = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}", HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    said_zh = chinese.get("/api/v1/consent").json()["by_shape"]["video_audio"]
    said_en = english.get("/api/v1/consent").json()["by_shape"]["video_audio"]
    assert said_zh["likeness"] == texts.wording("video", "recording", language="zh-hans").likeness
    assert said_en["likeness"] == texts.wording("video", "recording", language="en").likeness
