from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lipsync_site.view_access import signed_in_view


@signed_in_view("the user's own account page")
@login_required
@require_GET
def profile(request):
    """The user's own account: addresses, password, two-factor, and the consent they gave."""
    recent = request.user.attestations.prefetch_related("decisions").order_by("-created_at")[:10]
    return render(
        request,
        "accounts/profile.html",
        {
            "emails": EmailAddress.objects.filter(user=request.user).order_by("-primary", "email"),
            "two_factor": Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists(),
            "attestations": recent,
        },
    )
