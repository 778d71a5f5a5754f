from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from lipsync_site.api import views as api_views
from lipsync_site.api.endpoints import api
from lipsync_site.view_access import public_view

# The admin signs in through the site's own sign-in (allauth): the same rate limits, the
# same lockout and the same second factor, instead of a password-only form of its own.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:list", permanent=False)),
    path("accounts/", include("lipsync_site.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("workspaces/", include("lipsync_site.workspaces.urls")),
    path("jobs/", include("lipsync_site.jobs.urls")),
    path("credits/", include("lipsync_site.credits.urls")),
    path("media/", include("lipsync_site.media.urls")),
    path("workspaces/api/", include("lipsync_site.api.urls")),
    path("api/v1/", api.urls),
    path("api/v1/<path:rest>", api_views.unknown_endpoint),
    path("api/docs", api_views.docs, name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("lipsync_site.monitoring.urls")),
    # The words studio.js shows, in the page's language (cached by the browser per language).
    path(
        "jsi18n/",
        public_view("the translations of the site's scripts: the same for everyone")(
            cache_page(3600)(JavaScriptCatalog.as_view())
        ),
        name="javascript-catalog",
    ),
]
