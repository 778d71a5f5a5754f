"""Routes that speak a script get its language and a voice that speaks it; a route that
cannot speak it is not offered, and the form says why."""

from __future__ import annotations

import pytest

from lipsync_site.providers.base import SubmitInputs, SubmitOptions
from lipsync_site.providers.catalog import catalog_route
from lipsync_site.providers.router import fit_problems
from lipsync_site.providers.runcomfy import build_body
from lipsync_site.providers.speech import script_language


@pytest.mark.parametrize(
    ("script", "language"),
    [
        ("Welcome to the spring launch", "en"),
        ("欢迎来到我们的春季新品发布会", "zh"),
        ("欢迎体验 iPhone 的全新功能", "zh"),  # a brand name in Latin letters stays Chinese
        ("ようこそ、春の新製品へ", "ja"),
        ("봄 신제품 출시에 오신 것을 환영합니다", "ko"),
        ("12345 !?", ""),
    ],
)
def test_the_scripts_language_comes_from_its_characters(script, language):
    assert script_language(script) == language


def test_kling_speaks_a_chinese_script_with_a_mandarin_voice():
    route = catalog_route("kling-lipsync-text")
    inputs = SubmitInputs(video=_Url("https://in.example/v.mp4"), text="欢迎来到发布会")
    body = build_body(route, inputs, SubmitOptions(extra={"speech_language": "zh"}))
    assert body["voice_language"] == "zh" and body["voice_id"] == route.voices["zh"]["voice_id"]
    english = build_body(route, inputs, SubmitOptions(extra={"speech_language": "en"}))
    assert english["voice_language"] == "en" and english["voice_id"] == route.voices["en"]["voice_id"]


def test_wan_is_asked_for_mandarin_in_chinese():
    route = catalog_route("wan-2-7-audio")
    body = build_body(route, SubmitInputs(text="欢迎光临"), SubmitOptions(extra={"speech_language": "zh"}))
    assert "普通话" in body["prompt"] and "“欢迎光临”" in body["prompt"]
    english = build_body(route, SubmitInputs(text="Welcome"), SubmitOptions(extra={"speech_language": "en"}))
    assert 'says clearly: "Welcome"' in english["prompt"]


def test_a_route_that_cannot_speak_the_language_says_so():
    facts = {"text_chars": 7, "text_language": "zh", "output_seconds": 5.0}
    problems = fit_problems(catalog_route("happyhorse-i2v"), facts)
    assert problems == ["HappyHorse 1.0 image-to-video cannot speak Chinese: its voices speak English."]
    assert fit_problems(catalog_route("wan-2-7-audio"), facts) == []
    assert fit_problems(catalog_route("kling-lipsync-text"), {"text_chars": 7, "text_language": "zh"}) == []
    assert "cannot speak Japanese" in fit_problems(catalog_route("kling-lipsync-text"), {"text_language": "ja"})[0]


def test_wan_with_a_recording_does_not_speak_so_any_language_goes():
    facts = {"text_language": "ko", "audio_seconds": 5.0, "output_seconds": 5.0}
    assert fit_problems(catalog_route("wan-2-7-audio"), facts) == []


class _Url:
    def __init__(self, url):
        self.url = url


@pytest.mark.django_db
def test_the_form_says_when_no_route_can_speak_a_chinese_script(owner_client, portrait):
    from django.urls import reverse

    from tests.factories import upload

    response = owner_client.post(
        reverse("jobs:new"),
        {"shape": "portrait_script", "step": "check", "portrait": upload(portrait), "script": "欢迎来到春季新品发布会"},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    page = response.content.decode()
    assert 'id="script-language"' in page and "脚本语言：中文" in page
    assert "HappyHorse 1.0 image-to-video 无法说中文：它的声音只会说英语。" in page
    english = owner_client.post(
        reverse("jobs:new"),
        {"shape": "portrait_script", "step": "check", "portrait": upload(portrait), "script": "Welcome to the launch"},
    ).content.decode()
    assert "cannot speak" not in english and "Written in English" in english


def test_a_job_from_a_chinese_script_carries_its_language():
    from lipsync_site.jobs.forms import NewJobForm

    form = NewJobForm({"shape": "script", "script": "你好，世界"})
    form.is_valid()
    inputs = form.job_inputs(route_id="wan-2-7-audio", video=None, portrait=None)
    assert inputs.options["speech_language"] == "zh"
