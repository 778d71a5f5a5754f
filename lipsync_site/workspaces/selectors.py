from __future__ import annotations

from lipsync_site.workspaces.models import Invitation, Membership, Workspace


def memberships_of(user):
    """The user's workspaces, for the switcher."""
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name", "workspace_id")


def membership(*, workspace_id, user) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("workspace").filter(workspace_id=workspace_id, user=user).first()


def members_of(workspace: Workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user", "invited_by").order_by("joined_at")


def open_invitations(workspace: Workspace):
    return Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def membership_for_update(*, workspace_id, user_id) -> Membership | None:
    """The membership row, locked until the end of the caller's transaction: the credits
    app holds it while it checks a member's spending against their cap."""
    return Membership.objects.select_for_update().filter(workspace_id=workspace_id, user_id=user_id).first()


def is_member(*, workspace_id, user) -> bool:
    return membership(workspace_id=workspace_id, user=user) is not None
