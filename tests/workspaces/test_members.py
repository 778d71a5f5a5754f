"""The members page: roles, caps, removal, leaving, and the workspace switcher."""

import pytest
from django.urls import reverse

from lipsync_site.workspaces.models import Membership
from lipsync_site.workspaces.services import create_workspace
from tests.conftest import switch_client_to

pytestmark = pytest.mark.django_db


def as_(client, team, role):
    return switch_client_to(client, team.user(role), team.workspace)


def test_members_page_lists_the_team_for_every_role(client, team):
    for role in ("owner", "admin", "member", "viewer"):
        html = as_(client, team, role).get(reverse("workspaces:members")).content.decode()
        assert all(f"team-{r}" in html for r in ("owner", "admin", "member", "viewer"))
        assert ('id="invite-form"' in html) == (role in ("owner", "admin"))
        assert ('name="monthly_spend_cap"' in html) == (role == "owner")


def test_owner_changes_a_role(client, team):
    member = team.membership("member")
    as_(client, team, "owner").post(reverse("workspaces:change_role", args=[member.pk]), {"role": "admin"})
    member.refresh_from_db()
    assert member.role == "admin"


def test_admin_cannot_change_roles(client, team):
    member = team.membership("member")
    response = as_(client, team, "admin").post(reverse("workspaces:change_role", args=[member.pk]), {"role": "owner"})
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == "member"


def test_the_last_owner_cannot_step_down_or_leave(client, team):
    owner = team.membership("owner")
    as_(client, team, "owner").post(reverse("workspaces:change_role", args=[owner.pk]), {"role": "member"})
    owner.refresh_from_db()
    assert owner.role == "owner"
    response = client.post(reverse("workspaces:leave"), follow=True)
    assert "The last owner cannot leave" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_with_a_second_owner_the_first_can_step_down(client, team):
    admin = team.membership("admin")
    as_(client, team, "owner").post(reverse("workspaces:change_role", args=[admin.pk]), {"role": "owner"})
    owner = team.membership("owner")
    client.post(reverse("workspaces:change_role", args=[owner.pk]), {"role": "member"})
    owner.refresh_from_db()
    assert owner.role == "member"


def test_admin_removes_a_member_but_not_an_owner(client, team):
    as_(client, team, "admin").post(reverse("workspaces:remove", args=[team.membership("member").pk]))
    assert not Membership.objects.filter(workspace=team.workspace, user=team.member).exists()
    response = client.post(reverse("workspaces:remove", args=[team.membership("owner").pk]), follow=True)
    assert "Only an owner can change or remove an admin or an owner" in response.content.decode()
    assert Membership.objects.filter(workspace=team.workspace, user=team.owner).exists()


def test_a_removed_member_loses_access_at_the_next_click(client, team):
    as_(client, team, "member")
    assert client.get(reverse("workspaces:members")).status_code == 200
    Membership.objects.filter(workspace=team.workspace, user=team.member).delete()
    response = client.get(reverse("workspaces:members"))
    # Back in their own workspace, where the team's members are not shown.
    assert "team-owner" not in response.content.decode()


def test_owner_sets_and_clears_a_monthly_cap(client, team):
    member = team.membership("member")
    as_(client, team, "owner").post(reverse("workspaces:set_cap", args=[member.pk]), {"monthly_spend_cap": "300"})
    member.refresh_from_db()
    assert member.monthly_spend_cap == 300
    client.post(reverse("workspaces:set_cap", args=[member.pk]), {"monthly_spend_cap": ""})
    member.refresh_from_db()
    assert member.monthly_spend_cap is None


def test_admin_cannot_set_caps(client, team):
    member = team.membership("member")
    assert (
        as_(client, team, "admin")
        .post(reverse("workspaces:set_cap", args=[member.pk]), {"monthly_spend_cap": "1"})
        .status_code
        == 403
    )


def test_another_workspaces_member_is_a_404(client, team, outsider):
    theirs = outsider.memberships.get()
    as_(client, team, "owner")
    for name in ("workspaces:remove", "workspaces:change_role", "workspaces:set_cap"):
        assert (
            client.post(reverse(name, args=[theirs.pk]), {"role": "viewer", "monthly_spend_cap": "1"}).status_code
            == 404
        )
    theirs.refresh_from_db()
    assert (theirs.role, theirs.monthly_spend_cap) == ("owner", None)


def test_switcher_changes_the_current_workspace(client, team):
    second = create_workspace(name="Brand team", owner=team.member)
    as_(client, team, "member")
    html = client.get(reverse("workspaces:members")).content.decode()
    assert "selected>Acme marketing<" in html and "Brand team" in html
    response = client.post(
        reverse("workspaces:switch"), {"workspace": second.pk, "next": reverse("workspaces:members")}
    )
    assert response["Location"] == reverse("workspaces:members")
    assert "selected>Brand team<" in client.get(reverse("workspaces:members")).content.decode()


def test_switching_to_a_workspace_one_is_not_in_is_a_404(client, team, outsider):
    as_(client, team, "member")
    response = client.post(reverse("workspaces:switch"), {"workspace": outsider.memberships.get().workspace_id})
    assert response.status_code == 404


def test_switcher_does_not_follow_an_offsite_next(client, team):
    as_(client, team, "member")
    response = client.post(
        reverse("workspaces:switch"), {"workspace": team.workspace.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("jobs:list")


def test_a_user_in_no_workspace_is_told_so_and_can_start_one(client, outsider):
    outsider.memberships.all().delete()
    client.force_login(outsider)
    response = client.get(reverse("workspaces:members"))
    assert response["Location"] == reverse("workspaces:none")
    assert "not in a workspace" in client.get(reverse("workspaces:none")).content.decode()
    client.post(reverse("workspaces:list"), {"name": "Solo studio"})
    assert outsider.memberships.get().workspace.name == "Solo studio"


def test_owner_renames_the_workspace(client, team):
    as_(client, team, "owner").post(reverse("workspaces:rename"), {"name": "Acme brand"})
    team.workspace.refresh_from_db()
    assert team.workspace.name == "Acme brand"
