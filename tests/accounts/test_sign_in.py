"""Sign-in through allauth: throttled on every form (the admin's redirects to it), counted
in the cache all web processes share; optional TOTP second factor."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("root", email="root@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email="root@example.com", verified=True, primary=True)
    return user


def sign_in(client, login, password, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


def signed_in_user(client):
    return client.get(reverse("profile")).wsgi_request.user


def test_username_or_email_signs_in(client, staff):
    assert sign_in(client, "root", PASSWORD).status_code == 302
    client.logout()
    assert sign_in(client, "ROOT@example.com", PASSWORD).status_code == 302
    assert signed_in_user(client) == staff


def test_admin_has_no_password_form_of_its_own(client, staff):
    response = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not signed_in_user(client).is_authenticated


def test_forty_wrong_passwords_then_the_right_one_does_not_sign_in(client, staff):
    for attempt in range(40):
        response = sign_in(client, "root", f"guess-{attempt}")
        assert response.status_code in (200, 429)
    response = sign_in(client, "root", PASSWORD)
    assert response.status_code in (200, 429)
    assert not signed_in_user(client).is_authenticated
    assert client.get(reverse("admin:index")).status_code == 302


def test_lockout_after_five_failures_for_that_name_from_that_address(client, staff, settings):
    # allauth's own limits off, to show django-axes on its own (and for Django's authenticate()).
    settings.ACCOUNT_RATE_LIMITS = False
    for attempt in range(5):
        sign_in(client, "root", f"guess-{attempt}")
    response = sign_in(client, "root", PASSWORD)
    assert response.status_code == 429 and "Too many failed sign-ins" in response.content.decode()
    assert not signed_in_user(client).is_authenticated
    # The e-mail address counts against the same account.
    assert sign_in(client, "root@example.com", PASSWORD).status_code == 429
    # Another address is not locked out by someone else's guesses.
    assert sign_in(client, "root", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_failures_are_counted_in_the_shared_cache_not_in_process_memory(client, staff):
    backend = caches["default"]
    assert type(backend).__name__ in ("DatabaseCache", "RedisCache")
    sign_in(client, "root", "wrong")
    if type(backend).__name__ == "DatabaseCache":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM django_cache")
            assert cursor.fetchone()[0] >= 1  # the rows every web process reads


def test_redis_url_selects_the_redis_cache_and_otherwise_the_database():
    import subprocess
    import sys

    code = (
        "import django,os;django.setup();from django.conf import settings;print(settings.CACHES['default']['BACKEND'])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "lipsync_site.settings", "PATH": "/usr/bin:/bin"}
    with_redis = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "REDIS_URL": "redis://127.0.0.1:6379/5"},
        capture_output=True,
        text=True,
    )
    without = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert with_redis.stdout.strip() == "django.core.cache.backends.redis.RedisCache", with_redis.stderr
    assert without.stdout.strip() == "django.core.cache.backends.db.DatabaseCache", without.stderr


# --- Two-factor (TOTP) ---------------------------------------------------------------------
def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_totp_is_turned_on_and_then_asked_for_at_sign_in(client, staff):
    sign_in(client, "root", PASSWORD)
    # Turning it on is a sensitive change: allauth asks for the password again first.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)}).status_code == 302
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    client.logout()

    response = sign_in(client, "root", PASSWORD)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in_user(client).is_authenticated
    assert client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code == 200
    assert not signed_in_user(client).is_authenticated
    # The admin, too, is behind the second factor: it signs in through this same flow.
    client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert signed_in_user(client) == staff
    assert client.get(reverse("admin:index")).status_code == 200


# --- Sign-up, verification, password reset -------------------------------------------------
def test_sign_up_is_closed_without_an_invitation(client):
    response = client.get(reverse("account_signup"))
    assert "Sign Up Closed" in response.content.decode()
    client.post(
        reverse("account_signup"),
        {"email": "eve@example.com", "username": "eve", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert not get_user_model().objects.filter(username="eve").exists()


def test_open_sign_up_verifies_the_address_and_gives_a_personal_workspace(client, settings, mailoutbox):
    import re

    settings.ACCOUNT_OPEN_SIGNUP = True
    client.post(
        reverse("account_signup"),
        {"email": "eve@example.com", "username": "eve", "password1": PASSWORD, "password2": PASSWORD},
    )
    eve = get_user_model().objects.get(username="eve")
    assert not signed_in_user(client).is_authenticated  # not before the address is verified
    assert eve.memberships.get().workspace.name == "eve's workspace"
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mailoutbox[-1].body).group(1)
    client.post(link)
    assert EmailAddress.objects.get(user=eve).verified
    assert signed_in_user(client) == eve


def test_password_reset_by_email(client, staff, mailoutbox):
    import re

    client.post(reverse("account_reset_password"), {"email": "root@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mailoutbox[-1].body).group(1)
    form_url = client.get(link)["Location"]  # allauth moves the key out of the URL first
    new = "another-long-passphrase-7"
    client.post(form_url, {"password1": new, "password2": new})
    assert sign_in(client, "root", new).status_code == 302


def test_password_change_needs_the_old_one(client, staff):
    sign_in(client, "root", PASSWORD)
    new = "another-long-passphrase-7"
    client.post(reverse("account_change_password"), {"oldpassword": "nope", "password1": new, "password2": new})
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
    client.post(reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": new, "password2": new})
    staff.refresh_from_db()
    assert staff.check_password(new)
