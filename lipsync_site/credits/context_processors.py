from lipsync_site.credits.selectors import header_balance
from lipsync_site.workspaces.access import current_access


def balance(request):
    """The current workspace's available credits, for the header."""
    if getattr(request, "htmx", False):
        return {}  # fragments never render the header
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = current_access(request)
    return {"header_balance": header_balance(access.workspace) if access else 0}
