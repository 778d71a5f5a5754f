from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lipsync_site.credits.selectors import balance_summary, entries_for, open_holds_for, spending_by_member
from lipsync_site.workspaces.access import workspace_required
from lipsync_site.workspaces.roles import Capability


@workspace_required(Capability.VIEW)
@require_GET
def credits_page(request):
    """The workspace's balance, what is held, who spent what, and the ledger."""
    workspace = request.access.workspace
    page = Paginator(entries_for(workspace), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "credits/page.html",
        {
            "workspace": workspace,
            "balance": balance_summary(workspace),
            "holds": open_holds_for(workspace),
            "spending": spending_by_member(workspace),
            "page": page,
        },
    )
