"""Changes to workspaces, memberships and invitations. Each function is one transaction.

``check_*`` helpers raise ``WorkspaceRefused`` with a message for the person acting; the
views show it. Authorisation by capability is the views' (see ``access``); the rules
that protect the team from itself (the last owner, an admin touching an owner) live here
so no caller can skip them.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from lipsync_site.accounts.selectors import users_with_email, verified_emails
from lipsync_site.workspaces.models import Invitation, Membership, Workspace
from lipsync_site.workspaces.roles import Capability, Role, invitable_roles, role_can

INVITATION_SALT = "lipsync_site.workspaces.invitation"


class WorkspaceRefused(Exception):
    """A change the rules do not allow; the message is for the person who asked."""


class InvitationInvalid(WorkspaceRefused):
    pass


# --- Workspaces --------------------------------------------------------------------------
@transaction.atomic
def create_workspace(*, name: str, owner, personal: bool = False) -> Workspace:
    name = name.strip()
    if not name:
        raise WorkspaceRefused(gettext("A workspace needs a name."))
    workspace = Workspace.objects.create(name=name[:100], personal=personal)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


@transaction.atomic
def rename_workspace(*, workspace: Workspace, name: str) -> Workspace:
    name = name.strip()
    if not name:
        raise WorkspaceRefused(gettext("A workspace needs a name."))
    Workspace.objects.filter(pk=workspace.pk).update(name=name[:100])
    workspace.refresh_from_db()
    return workspace


def personal_workspace_name(user) -> str:
    return f"{user.get_username()}'s workspace"


# --- Members ------------------------------------------------------------------------------
def _owners(workspace_id) -> int:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).count()


def _lock(membership: Membership) -> Membership:
    # Lock every owner row too: two owners demoting each other at once must not leave none.
    locked = {
        m.pk: m
        for m in Membership.objects.select_for_update().filter(
            Q(pk=membership.pk) | Q(workspace_id=membership.workspace_id, role=Role.OWNER)
        )
    }
    if membership.pk not in locked:
        raise WorkspaceRefused(gettext("That person is no longer a member."))
    return locked[membership.pk]


def _check_may_touch(*, actor_role: str, target: Membership) -> None:
    """Admins manage members and viewers; only owners touch admins and owners."""
    if role_can(target.role, Capability.MANAGE_MEMBERS) and not role_can(actor_role, Capability.MANAGE_ROLES):
        raise WorkspaceRefused(gettext("Only an owner can change or remove an admin or an owner."))


@transaction.atomic
def change_role(*, membership: Membership, role: str, actor_membership: Membership) -> Membership:
    if not role_can(actor_membership.role, Capability.MANAGE_ROLES):
        raise WorkspaceRefused(gettext("Only an owner can change roles."))
    membership = _lock(membership)
    role = Role(role)
    if membership.role == Role.OWNER and role != Role.OWNER and _owners(membership.workspace_id) == 1:
        raise WorkspaceRefused(gettext("A workspace needs an owner: make someone else owner first."))
    Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.refresh_from_db()
    return membership


@transaction.atomic
def set_spend_cap(*, membership: Membership, monthly_cap: int | None, actor_membership: Membership) -> Membership:
    """An owner's monthly limit on what one member may spend (None: no limit)."""
    if not role_can(actor_membership.role, Capability.BILLING):
        raise WorkspaceRefused(gettext("Only an owner can set spending caps."))
    if monthly_cap is not None and monthly_cap < 0:
        raise WorkspaceRefused(gettext("A cap cannot be negative."))
    Membership.objects.filter(pk=membership.pk).update(monthly_spend_cap=monthly_cap)
    membership.refresh_from_db()
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, actor_membership: Membership) -> None:
    """Take someone out of the workspace. Their jobs, files and ledger entries stay."""
    if membership.pk != actor_membership.pk:
        if not role_can(actor_membership.role, Capability.MANAGE_MEMBERS):
            raise WorkspaceRefused(gettext("Only owners and admins can remove members."))
        _check_may_touch(actor_role=actor_membership.role, target=membership)
    membership = _lock(membership)
    if membership.role == Role.OWNER and _owners(membership.workspace_id) == 1:
        raise WorkspaceRefused(gettext("The last owner cannot leave: make someone else owner first."))
    membership.delete()


def leave_workspace(*, membership: Membership) -> None:
    remove_member(membership=membership, actor_membership=membership)


# --- Invitations --------------------------------------------------------------------------
def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.id.hex}, salt=INVITATION_SALT, compress=True)


def _normalize(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def invite_member(*, workspace: Workspace, email: str, role: str, actor_membership: Membership) -> Invitation:
    """Invite an address (a new or an existing account) to join with ``role``.

    An open invitation to the same address is replaced (revoked), so only the newest
    link works. The caller sends the e-mail after commit (``emails.send_invitation``).
    """
    role = Role(role)
    if role not in invitable_roles(actor_membership.role):
        raise WorkspaceRefused(gettext("You cannot invite someone as %(role)s.") % {"role": str(role.label).lower()})
    email = _normalize(email)
    if Membership.objects.filter(workspace=workspace, user__in=users_with_email(email)).exists():
        raise WorkspaceRefused(f"{email} is already a member.")
    now = timezone.now()
    Invitation.objects.filter(
        workspace=workspace, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now, revoked_by=actor_membership.user)
    return Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        invited_by=actor_membership.user,
        expires_at=now + timedelta(seconds=settings.WORKSPACE_INVITATION_MAX_AGE_SECONDS),
    )


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor_membership: Membership) -> Invitation:
    if not role_can(actor_membership.role, Capability.MANAGE_MEMBERS):
        raise WorkspaceRefused(gettext("Only owners and admins can revoke invitations."))
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor_membership.user
    ):
        raise WorkspaceRefused(gettext("That invitation was already used or revoked."))
    invitation.refresh_from_db()
    return invitation


def read_invitation(token: str) -> Invitation:
    """The invitation a link names, if the link is genuine, unexpired, unused and unrevoked."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=settings.WORKSPACE_INVITATION_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise InvitationInvalid(gettext("This invitation has expired: ask for a new one.")) from None
    except signing.BadSignature:
        raise InvitationInvalid(gettext("This invitation link is not valid.")) from None
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(pk=payload.get("i")).first()
    if invitation is None:
        raise InvitationInvalid(gettext("This invitation link is not valid."))
    check_invitation_open(invitation)
    return invitation


def check_invitation_open(invitation: Invitation) -> None:
    state = invitation.state
    if state == Invitation.State.ACCEPTED:
        raise InvitationInvalid(gettext("This invitation has already been used."))
    if state == Invitation.State.REVOKED:
        raise InvitationInvalid(gettext("This invitation was withdrawn."))
    if state == Invitation.State.EXPIRED:
        raise InvitationInvalid(gettext("This invitation has expired: ask for a new one."))


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user) -> Membership:
    """Join the workspace. Only the person the invitation was sent to (a verified address
    of the account), only once, only before it expires or is revoked."""
    if invitation.email.lower() not in {email.lower() for email in verified_emails(user)}:
        raise InvitationInvalid(
            gettext("This invitation was sent to %(email)s; sign in with that address (or verify it) to accept.")
            % {"email": invitation.email}
        )
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if claimed != 1:
        invitation.refresh_from_db()
        check_invitation_open(invitation)
        raise InvitationInvalid(gettext("This invitation can no longer be used."))
    membership, _ = Membership.objects.get_or_create(
        workspace_id=invitation.workspace_id,
        user=user,
        defaults={"role": invitation.role, "invited_by": invitation.invited_by},
    )
    return membership
