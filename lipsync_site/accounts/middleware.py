from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


class HtmxLoginRedirectMiddleware:
    """A signed-out HTMX request gets ``HX-Redirect`` to the login page.

    Without this, ``login_required``'s 302 is followed by htmx and the login page is
    swapped into the fragment.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and not request.user.is_authenticated
            and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))
        ):
            current = request.htmx.current_url_abs_path or request.get_full_path()
            login = redirect_to_login(current, resolve_url(settings.LOGIN_URL))
            return HttpResponseClientRedirect(login["Location"])
        return response
