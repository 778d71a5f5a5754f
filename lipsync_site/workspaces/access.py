"""Which workspace a request acts in, and whether the user may do what they ask there.

The current workspace is kept in the session and checked against the membership table on
every request, so a member who is removed loses access at their next click. Views say
what they need with ``workspace_required(capability)``; the URL-walking role matrix test
(tests/workspaces/test_role_matrix.py) fails for any view of ours that says neither that
nor ``public_view(reason)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext

from lipsync_site.view_access import public_view, signed_in_view  # noqa: F401  (one import for views)
from lipsync_site.workspaces import selectors
from lipsync_site.workspaces.models import Membership, Workspace
from lipsync_site.workspaces.roles import Capability, Role, role_can

SESSION_KEY = "workspace_id"


@dataclass(frozen=True)
class Access:
    """A signed-in user's standing in one workspace."""

    membership: Membership

    @property
    def workspace(self) -> Workspace:
        return self.membership.workspace

    @property
    def user(self):
        return self.membership.user

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    def can(self, capability: Capability) -> bool:
        return role_can(self.membership.role, capability)

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise PermissionDenied(gettext("Your role in %(name)s does not allow this.") % {"name": self.workspace})


def current_access(request) -> Access | None:
    """The user's access to their current workspace; picks their first one if the session
    names none they still belong to. None for visitors and users with no workspace."""
    if hasattr(request, "_workspace_access"):
        return request._workspace_access
    access = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        found = selectors.membership(workspace_id=request.session.get(SESSION_KEY), user=user)
        if found is None:
            found = selectors.memberships_of(user).first()
            if found is not None:
                request.session[SESSION_KEY] = found.workspace_id
        if found is not None:
            found.user = user
            access = Access(found)
    request._workspace_access = access
    return access


def access_to(request, workspace_id) -> Access | None:
    """The user's access to a given workspace (an object's), current or not."""
    current = current_access(request)
    if current is not None and current.workspace.pk == workspace_id:
        return current
    found = selectors.membership(workspace_id=workspace_id, user=request.user)
    return Access(found) if found is not None else None


def require_access_to(request, workspace_id, capability: Capability = Capability.VIEW) -> Access:
    """For an object's page: another workspace's object is a 404 (never a hint it exists),
    a role too low for the action is a 403."""
    access = access_to(request, workspace_id)
    if access is None:
        raise Http404
    access.require(capability)
    return access


def switch_to(request, workspace_id) -> Access:
    found = selectors.membership(workspace_id=workspace_id, user=request.user)
    if found is None:
        raise Http404
    request.session[SESSION_KEY] = found.workspace_id
    request._workspace_access = Access(found)
    return request._workspace_access


def workspace_required(capability: Capability = Capability.VIEW):
    """The view acts in the current workspace and needs ``capability`` there.

    Signed-out visitors go to the sign-in page, users without a workspace to a page that
    says so, and a role without the capability gets a 403. ``request.access`` is set.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = current_access(request)
            if access is None:
                return redirect("workspaces:none")
            access.require(capability)
            request.access = access
            return view(request, *args, **kwargs)

        wrapper.workspace_capability = capability
        return wrapper

    return decorator


def object_workspace_required(capability: Capability = Capability.VIEW):
    """For a hot path that reads one object: the view finds the object together with the
    user's role in the object's workspace (one query, see ``jobs.selectors.status_snapshot``)
    and checks ``capability`` against that role itself; the current workspace is not loaded.
    Signed-out visitors go to the sign-in page. The role matrix tests it like
    ``workspace_required``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        wrapper.workspace_capability = capability
        return wrapper

    return decorator


def require_role(role: str | None, capability: Capability = Capability.VIEW) -> None:
    """``role`` is the user's role in an object's workspace, None for an outsider: another
    workspace's object is a 404, a role too low for the action a 403."""
    if role is None:
        raise Http404
    if not role_can(role, capability):
        raise PermissionDenied(gettext("Your role in this workspace does not allow this."))
