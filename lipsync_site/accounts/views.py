from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def profile(request):
    recent = request.user.attestations.prefetch_related("decisions").order_by("-created_at")[:10]
    return render(request, "accounts/profile.html", {"attestations": recent})
