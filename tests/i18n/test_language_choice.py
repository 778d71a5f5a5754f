"""Which language a page is in: the browser for a first visit, then the switch, kept on the
user and in the language cookie."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
def test_a_first_visit_follows_the_browsers_accept_language():
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8").get(reverse("account_login"))
    english = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").get(reverse("account_login"))
    assert 'lang="zh-hans"' in chinese.content.decode() and "登录" in chinese.content.decode()
    assert 'lang="en"' in english.content.decode() and "Sign In" in english.content.decode()


@pytest.mark.django_db
def test_the_sign_in_page_has_the_switch_and_a_visitors_choice_is_kept_in_the_cookie():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(reverse("account_login")).content.decode()
    assert 'id="language-switch-signin"' in page and "简体中文" in page
    response = client.post(reverse("choose_language"), {"language": "zh-hans", "next": reverse("account_login")})
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert "登录" in client.get(reverse("account_login")).content.decode()


@pytest.mark.django_db
def test_a_signed_in_users_choice_is_stored_on_them_and_wins_over_the_browser(owner):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(owner)
    client.post(reverse("choose_language"), {"language": "zh-hans", "next": reverse("jobs:list")})
    owner.refresh_from_db()
    assert owner.language == "zh-hans"
    # Another browser, English by default and with no cookie: the stored choice still wins,
    # and that browser is given the cookie.
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    elsewhere.force_login(owner)
    response = elsewhere.get(reverse("jobs:list"))
    assert 'lang="zh-hans"' in response.content.decode() and "新建任务" in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


@pytest.mark.django_db
def test_switching_back_to_english(owner):
    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    client = Client()
    client.force_login(owner)
    client.post(reverse("choose_language"), {"language": "en", "next": reverse("jobs:list")})
    owner.refresh_from_db()
    assert owner.language == "en"
    assert "New job" in client.get(reverse("jobs:list")).content.decode()


@pytest.mark.django_db
def test_an_unknown_language_or_a_foreign_next_is_refused(owner):
    client = Client()
    assert client.post(reverse("choose_language"), {"language": "xx"}).status_code == 400
    response = client.post(reverse("choose_language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_the_switch_takes_only_post():
    assert Client().get(reverse("choose_language")).status_code == 405


@pytest.mark.django_db
def test_dates_read_the_chinese_way(client, owner):
    from tests.conftest import switch_client_to
    from tests.factories import workspace_of

    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    page = switch_client_to(client, owner, workspace_of(owner)).get(reverse("credits:page")).content.decode()
    assert "月" in page and "日" in page  # "11月30日 16:05", not "Nov 30, 16:05"
