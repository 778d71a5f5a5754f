"""Invitations by e-mail: a signed, expiring, single-use link for one address."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from lipsync_site.workspaces.models import Invitation, Membership
from lipsync_site.workspaces.services import invite_member
from tests.conftest import switch_client_to

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-42"


def send_invitation(client, team, email, role="member", inviter="owner", capture=None):
    switch_client_to(client, team.user(inviter), team.workspace)
    with capture(execute=True):
        response = client.post(reverse("workspaces:invite"), {"email": email, "role": role})
    client.logout()
    assert response.status_code == 302
    return Invitation.objects.get(workspace=team.workspace, email=email.lower(), accepted_at=None, revoked_at=None)


def link_from_outbox(email) -> str:
    message = [m for m in mail.outbox if email.lower() in m.to][-1]
    return re.search(r"https?://[^/\s]+(/workspaces/join/[^\s]+/)", message.body).group(1)


@pytest.fixture
def invite(client, team, django_capture_on_commit_callbacks):
    def invite(email, role="member", inviter="owner"):
        invitation = send_invitation(client, team, email, role, inviter, django_capture_on_commit_callbacks)
        return invitation, link_from_outbox(email)

    return invite


def sign_up(client, email, username="newcomer"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_invitation_mail_names_workspace_inviter_and_expiry(invite, team):
    invitation, _link = invite("Ada@Example.com", role="viewer")
    message = mail.outbox[-1]
    assert message.to == ["ada@example.com"]
    assert "Acme marketing" in message.subject and "team-owner" in message.subject
    assert "as viewer" in message.body and "expires" in message.body
    assert invitation.email == "ada@example.com"


def test_new_colleague_signs_up_from_the_link_and_lands_in_the_workspace(client, invite, team):
    invitation, link = invite("ada@example.com", role="member")
    page = client.get(link)
    assert page.status_code == 200 and "Create an account" in page.content.decode()
    assert client.get(reverse("account_signup") + "?email=ada@example.com").status_code == 200
    response = sign_up(client, "ada@example.com", username="ada")
    assert response.status_code == 302
    ada = get_user_model().objects.get(username="ada")
    # The link reached her mailbox: no second verification round, she is signed in.
    assert EmailAddress.objects.get(user=ada).verified
    assert Membership.objects.get(workspace=team.workspace, user=ada).role == "member"
    invitation.refresh_from_db()
    assert invitation.accepted_by == ada
    landing = client.get(response["Location"], follow=True)
    assert landing.wsgi_request.user == ada
    assert "selected>Acme marketing<" in landing.content.decode()


def test_signing_up_from_a_link_needs_the_invited_address(client, invite, team):
    invite("ada@example.com")
    client.get(link_from_outbox("ada@example.com"))
    response = sign_up(client, "someone-else@example.com", username="mallory")
    assert response.status_code == 200
    assert "Your invitation was sent to ada@example.com" in response.content.decode()
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_existing_account_signs_in_from_the_link_and_accepts(client, invite, team, outsider):
    _invitation, link = invite("outsider@example.com", role="viewer")
    page = client.get(link).content.decode()
    assert "sign in" in page
    login = client.post(
        reverse("account_login") + f"?next={link}",
        {"login": "outsider", "password": "pw-" + "outsider" * 2, "next": link},
    )
    assert login.status_code == 302 and login["Location"] == link
    assert "Join Acme marketing" in client.get(link).content.decode()
    response = client.post(link)
    assert response.status_code == 302
    assert Membership.objects.get(workspace=team.workspace, user=outsider).role == "viewer"


def test_a_used_link_does_not_work_again(client, invite, team, outsider):
    _invitation, link = invite("outsider@example.com")
    client.force_login(outsider)
    assert client.post(link).status_code == 302
    again = client.post(link)
    assert again.status_code == 404 and "already been used" in again.content.decode()
    client.logout()
    assert client.get(link).status_code == 404
    assert sign_up(client, "outsider2@example.com", username="late").status_code == 200  # sign-up stays closed
    assert not get_user_model().objects.filter(username="late").exists()


def test_an_expired_link_is_refused(client, invite, team, outsider):
    invitation, link = invite("outsider@example.com")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    client.force_login(outsider)
    response = client.post(link)
    assert response.status_code == 404 and "expired" in response.content.decode()
    assert not Membership.objects.filter(workspace=team.workspace, user=outsider).exists()


def test_a_link_past_its_signature_age_is_refused(client, invite, team, outsider, settings):
    _invitation, link = invite("outsider@example.com")
    settings.WORKSPACE_INVITATION_MAX_AGE_SECONDS = -1
    client.force_login(outsider)
    assert client.post(link).status_code == 404
    assert not Membership.objects.filter(workspace=team.workspace, user=outsider).exists()


def test_a_link_for_another_address_is_refused(client, invite, team, outsider):
    invitation, link = invite("ada@example.com")
    client.force_login(outsider)
    response = client.post(link)
    assert response.status_code == 403
    assert "sent to ada@example.com" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(workspace=team.workspace, user=outsider).exists()


def test_a_revoked_link_is_refused(client, invite, team, outsider):
    invitation, link = invite("outsider@example.com")
    switch_client_to(client, team.admin, team.workspace)
    assert client.post(reverse("workspaces:revoke", args=[invitation.pk])).status_code == 302
    client.force_login(outsider)
    response = client.post(link)
    assert response.status_code == 404 and "withdrawn" in response.content.decode()
    assert not Membership.objects.filter(workspace=team.workspace, user=outsider).exists()


def test_inviting_again_replaces_the_open_invitation(client, invite, team, outsider):
    first, first_link = invite("outsider@example.com")
    _second, second_link = invite("outsider@example.com", role="admin")
    first.refresh_from_db()
    assert first.revoked_at is not None
    client.force_login(outsider)
    assert client.post(first_link).status_code == 404
    assert client.post(second_link).status_code == 302
    assert Membership.objects.get(workspace=team.workspace, user=outsider).role == "admin"


def test_a_tampered_link_is_refused(client, invite, team):
    _invitation, link = invite("ada@example.com")
    assert client.get(link[:-3] + "xx/").status_code == 404


def test_admins_invite_members_and_viewers_only(client, team, django_capture_on_commit_callbacks):
    switch_client_to(client, team.admin, team.workspace)
    client.post(reverse("workspaces:invite"), {"email": "boss@example.com", "role": "owner"})
    assert not Invitation.objects.filter(email="boss@example.com").exists()
    invitation = send_invitation(
        client, team, "helper@example.com", "viewer", "admin", django_capture_on_commit_callbacks
    )
    assert invitation.role == "viewer"


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_invite(client, team, role):
    switch_client_to(client, team.user(role), team.workspace)
    assert client.post(reverse("workspaces:invite"), {"email": "x@example.com", "role": "viewer"}).status_code == 403
    assert not Invitation.objects.exists()


def test_an_existing_member_is_not_invited_again(team):
    from lipsync_site.workspaces.services import WorkspaceRefused

    with pytest.raises(WorkspaceRefused, match="already a member"):
        invite_member(
            workspace=team.workspace,
            email="TEAM-viewer@example.com",
            role="member",
            actor_membership=team.membership("owner"),
        )


def test_another_workspaces_invitation_cannot_be_revoked(client, team, outsider):
    from lipsync_site.workspaces.models import Workspace

    theirs = invite_member(
        workspace=Workspace.objects.get(memberships__user=outsider),
        email="friend@example.com",
        role="member",
        actor_membership=outsider.memberships.get(),
    )
    switch_client_to(client, team.owner, team.workspace)
    assert client.post(reverse("workspaces:revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
