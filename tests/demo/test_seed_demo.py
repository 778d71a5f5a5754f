"""``make run``'s seed: the workspace "Demo marketing" with an owner, a member and a
viewer, its credits, and a moderator; idempotent; every printed password signs in."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from lipsync_site.credits.models import CreditAccount
from lipsync_site.workspaces.models import Membership, Workspace

pytestmark = pytest.mark.django_db


def seed(capsys) -> dict[str, str]:
    call_command("seed_demo")
    out = capsys.readouterr().out
    return dict(re.findall(r"^\s+\w+\s+(\w+) / (\S+)", out, re.MULTILINE))


def test_seed_makes_the_demo_team_once_and_every_password_signs_in(client, capsys):
    seed(capsys)
    passwords = seed(capsys)  # a second run changes passwords, not the team or its credits
    workspace = Workspace.objects.get(name="Demo marketing")
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("user__username", "role"))
    assert roles == {"demo": "owner", "member": "member", "viewer": "viewer"}
    assert CreditAccount.objects.get(workspace=workspace).balance == 1000
    assert set(passwords) == {"demo", "member", "viewer", "moderator"}
    for username, password in passwords.items():
        client.logout()
        response = client.post(reverse("account_login"), {"login": username, "password": password})
        assert response.status_code == 302, f"{username} cannot sign in"
