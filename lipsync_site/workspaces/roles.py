"""Roles in a workspace and what each may do.

Roles are ranked; a capability names the lowest role that has it, so every role has what
the roles below it have. Views ask for a capability, never for a role by name.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Capability(StrEnum):
    VIEW = "view"  # see the workspace's jobs, watch, download, comment
    COMMENT = "comment"
    CREATE_JOBS = "create_jobs"  # spend the workspace's credits, re-run a colleague's job
    REVIEW = "review"  # mark outputs approved or rejected
    MANAGE_MEMBERS = "manage_members"  # invite, revoke invitations, remove members and viewers
    MANAGE_ROLES = "manage_roles"  # change anyone's role, remove admins and owners
    BILLING = "billing"  # spending caps, the workspace's name


LOWEST_ROLE: dict[Capability, Role] = {
    Capability.VIEW: Role.VIEWER,
    Capability.COMMENT: Role.VIEWER,
    Capability.CREATE_JOBS: Role.MEMBER,
    Capability.REVIEW: Role.MEMBER,
    Capability.MANAGE_MEMBERS: Role.ADMIN,
    Capability.MANAGE_ROLES: Role.OWNER,
    Capability.BILLING: Role.OWNER,
}


def role_can(role: str, capability: Capability) -> bool:
    return RANK[Role(role)] >= RANK[LOWEST_ROLE[capability]]


def roles_with(capability: Capability) -> list[Role]:
    return [role for role in Role if role_can(role, capability)]


def invitable_roles(inviter_role: str) -> list[Role]:
    """An owner may invite any role; an admin invites members and viewers."""
    if role_can(inviter_role, Capability.MANAGE_ROLES):
        return list(Role)
    if role_can(inviter_role, Capability.MANAGE_MEMBERS):
        return [Role.MEMBER, Role.VIEWER]
    return []
