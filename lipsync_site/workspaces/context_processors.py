from lipsync_site.workspaces.access import current_access
from lipsync_site.workspaces.roles import Capability
from lipsync_site.workspaces.selectors import memberships_of


def workspace(request):
    """The header's workspace switcher: the current workspace and the user's others."""
    if getattr(request, "htmx", False):
        return {}  # fragments never render the header
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = current_access(request)
    return {
        "workspace_access": access,
        "current_workspace": access.workspace if access else None,
        "switchable_memberships": memberships_of(user) if access else [],
        # Links a role cannot follow are not shown (the views refuse them regardless).
        "can_create_jobs": bool(access and access.can(Capability.CREATE_JOBS)),
        "can_manage_api": bool(access and access.can(Capability.MANAGE_MEMBERS)),
    }
