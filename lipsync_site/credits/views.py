from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lipsync_site.credits.selectors import balance_summary, entries_for, open_holds_for


@login_required
@require_GET
def credits_page(request):
    page = Paginator(entries_for(request.user), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "credits/page.html",
        {"balance": balance_summary(request.user), "holds": open_holds_for(request.user), "page": page},
    )
