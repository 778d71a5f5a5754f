from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils import translation
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


class UserLanguageMiddleware:
    """A signed-in user's stored language wins over the cookie and the browser.

    Runs after ``LocaleMiddleware`` (which has read the cookie or Accept-Language) and the
    authentication middleware. When the stored choice differs from the cookie, the cookie
    follows, so the page after signing out stays in the same language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if chosen and chosen != request.LANGUAGE_CODE:
            translation.activate(chosen)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if chosen and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            remember_language(response, chosen)
        return response


def remember_language(response, language: str) -> None:
    """Keep the language in Django's language cookie (read by ``LocaleMiddleware``)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
