from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from lipsync_site.accounts import services
from lipsync_site.accounts.middleware import remember_language
from lipsync_site.view_access import public_view, signed_in_view


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


@public_view("anyone may choose the language, signed in or not (the sign-in page has the switch)")
@require_POST
def choose_language(request):
    """The language switch: kept on the user when signed in, and in the language cookie."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language")
    if request.user.is_authenticated:
        services.choose_language(user=request.user, language=language)
    translation.activate(language)
    response = redirect(next_url)
    remember_language(response, language)
    return response
