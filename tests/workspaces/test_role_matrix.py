"""Every URL of ours, for each role in a workspace, an outsider and a visitor.

The test walks the URL conf. A view of ours must declare who it is for
(``workspace_required(capability)``, ``signed_in_view`` or ``public_view``), or
``test_every_view_declares_who_it_is_for`` fails; a declared view is then requested as
each role and must answer as its capability says. An object of another workspace (an id
in the URL) is a 404 for the outsider. Requests that a role may make are sent as GET, so
nothing is changed; refused ones are also sent as POST.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from lipsync_site.workspaces.roles import role_can
from tests.conftest import switch_client_to

ROLES = ["owner", "admin", "member", "viewer"]
# What an allowed GET may answer: a page, a redirect, "use POST", or htmx's "stop polling".
ALLOWED_ANSWERS = (200, 286, 302, 405)
VISITORS = [*ROLES, "outsider", "anonymous"]
# Views we do not write: their own projects test them. Ours all live in lipsync_site.
THIRD_PARTY_PREFIXES = ("allauth.", "django.contrib.admin.", "django.views.generic.")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), space)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else prefix + str(entry.pattern), entry


def _module(callback) -> str:
    view_class = getattr(callback, "view_class", None)
    target = view_class or callback
    return f"{target.__module__}.{target.__qualname__}"


# The token API (django-ninja, namespace "api") takes no session: its own tests request every
# operation with each scope, another workspace's token, revoked and expired ones (tests/api).
TOKEN_API = "api:"


def our_urls() -> dict[str, URLPattern]:
    urls = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        if not name.startswith(("admin:", TOKEN_API)) and not _module(pattern.callback).startswith(
            THIRD_PARTY_PREFIXES
        ):
            urls[name] = pattern
    return urls


ADMIN_URLS = {name: pattern for name, pattern in _walk(get_resolver().url_patterns) if name.startswith("admin:")}


def declaration(callback) -> tuple[str, object]:
    for kind, attribute in (
        ("workspace", "workspace_capability"),
        ("signed_in", "workspace_personal"),
        ("public", "workspace_public"),
    ):
        value = getattr(callback, attribute, None)
        if value:
            return kind, value
    return "", None


URLS = our_urls()
BY_KIND = {
    kind: sorted(n for n, p in URLS.items() if declaration(p.callback)[0] == kind)
    for kind in ("workspace", "signed_in", "public")
}


def test_every_view_declares_who_it_is_for():
    undeclared = sorted(name for name, pattern in URLS.items() if not declaration(pattern.callback)[0])
    assert not undeclared, f"views without workspace_required / signed_in_view / public_view: {undeclared}"


def test_the_walk_found_the_urls():
    assert "workspaces:members" in BY_KIND["workspace"] and "credits:page" in BY_KIND["workspace"]
    assert "workspaces:join" in BY_KIND["public"] and "profile" in BY_KIND["signed_in"]


# --- Sample objects for the URL's arguments ----------------------------------------------
def _invitation(team):
    from lipsync_site.workspaces.services import invite_member

    return invite_member(
        workspace=team.workspace, email="sample@example.com", role="viewer", actor_membership=team.membership("owner")
    )


def _job(team):
    """A job a member made in the team's workspace, from real (tiny) media."""
    import tempfile
    from pathlib import Path

    from tests import factories, mediafactory

    folder = Path(tempfile.mkdtemp())
    video = factories.stored_file(
        team.member, mediafactory.make_video(folder / "v.mp4", seconds=1.0), "video", team.workspace
    )
    voice = factories.stored_file(
        team.member, mediafactory.make_audio(folder / "a.wav", seconds=1.0), "audio", team.workspace
    )
    return factories.make_job(team.member, video=video, voice=voice)


def _delivery(team):
    from lipsync_site.api.models import WebhookDelivery
    from lipsync_site.api.services import create_webhook

    endpoint = create_webhook(
        workspace=team.workspace, created_by=team.owner, url="https://example.com/hook", events=["job.failed"]
    )
    return WebhookDelivery.objects.create(endpoint=endpoint, event="job.failed", payload={"id": "sample"})


def _token(team):
    from lipsync_site.api.services import create_token

    return create_token(workspace=team.workspace, created_by=team.owner, name="t", scopes=["read"], expires_at=None)


SAMPLES = {
    "membership_id": lambda team: team.membership("viewer").pk,
    "token_id": lambda team: _token(team).token.pk,
    "endpoint_id": lambda team: _delivery(team).endpoint_id,
    "delivery_id": lambda team: _delivery(team).pk,
    "invitation_id": lambda team: _invitation(team).pk,
    "job_id": lambda team: _job(team).pk,
}


def url_for(name, team) -> tuple[str, bool]:
    """The URL with arguments naming the team's objects; and whether it names an object."""
    pattern = URLS[name]
    kwargs = {}
    for key in pattern.pattern.converters:
        assert key in SAMPLES, f"{name}: add a sample object for the URL argument {key!r} to SAMPLES"
        kwargs[key] = SAMPLES[key](team)
    return reverse(name, kwargs=kwargs), bool(kwargs)


def as_visitor(client, team, outsider, who):
    if who == "anonymous":
        return client
    if who == "outsider":
        return switch_client_to(client, outsider, outsider.memberships.get().workspace)
    return switch_client_to(client, team.user(who), team.workspace)


@pytest.mark.django_db
@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("name", BY_KIND["workspace"])
def test_workspace_views_answer_each_role_as_their_capability_says(client, team, outsider, name, who):
    capability = URLS[name].callback.workspace_capability
    url, names_object = url_for(name, team)
    client = as_visitor(client, team, outsider, who)
    response = client.get(url)
    if who == "anonymous":
        assert response.status_code == 302 and reverse("account_login") in response["Location"]
        return
    if who == "outsider":
        if names_object:
            # Whichever method the view takes, another workspace's object is a 404.
            statuses = {response.status_code, client.post(url).status_code}
            assert 404 in statuses and statuses <= {404, 405}, f"{name}: another workspace's object must be a 404"
        else:
            assert response.status_code in ALLOWED_ANSWERS
            assert "Acme marketing" not in response.content.decode(), f"{name} shows another workspace"
        return
    if role_can(who, capability):
        assert response.status_code in ALLOWED_ANSWERS, f"{name}: {who} may {capability}"
    else:
        assert response.status_code == 403, f"{name}: {who} may not {capability}"
        assert client.post(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", BY_KIND["signed_in"])
def test_personal_views_need_a_signed_in_user_and_show_only_their_own(client, team, outsider, name):
    url, names_object = url_for(name, team)
    assert not names_object, f"{name} names an object: it needs a workspace check"
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    response = as_visitor(client, team, outsider, "outsider").get(url)
    assert response.status_code in ALLOWED_ANSWERS
    assert "Acme marketing" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ADMIN_URLS))
def test_the_admin_is_for_site_staff_not_for_workspace_owners(client, team, name):
    """Moderation and grants are site-wide: a workspace owner (not staff) gets none of it."""
    import uuid

    if name in ("admin:login", "admin:logout"):
        return  # signing in and out shows nothing of anyone's (login redirects to the site's sign-in)
    dummy = {"int": 1, "str": "1", "path": "1", "uuid": uuid.uuid4(), "slug": "x"}
    pattern = ADMIN_URLS[name].pattern
    kwargs = {
        key: dummy.get(type(converter).__name__.removesuffix("Converter").lower(), "1")
        for key, converter in pattern.converters.items()
    }
    if "app_label" in getattr(pattern, "regex", None).groupindex:
        kwargs["app_label"] = "credits"
    url = reverse(name, kwargs=kwargs)
    client = switch_client_to(client, team.owner, team.workspace)
    for response in (client.get(url), client.post(url)):
        assert response.status_code in (302, 403, 404), f"{name} answered a non-staff owner"
        if response.status_code == 302:
            assert reverse("admin:login") in response["Location"] or reverse("account_login") in response["Location"]


def test_public_views_say_why():
    for name in BY_KIND["public"]:
        reason = URLS[name].callback.workspace_public
        assert isinstance(reason, str) and len(reason) > 20, f"{name}: say why it is public"
