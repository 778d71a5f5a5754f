from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="jobs:list", permanent=False)),
    path("accounts/", include("lipsync_site.accounts.urls")),
    path("jobs/", include("lipsync_site.jobs.urls")),
    path("credits/", include("lipsync_site.credits.urls")),
    path("media/", include("lipsync_site.media.urls")),
    path("admin/", admin.site.urls),
]
