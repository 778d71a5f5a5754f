"""The site's URLs plus one authenticated trivial view: the baseline the status partial is
measured against under gunicorn (tests/jobs/test_bench_status.py). Used only there, as the
ROOT_URLCONF of ``tests.bench_settings``."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from lipsync_site.urls import urlpatterns as site_urlpatterns


@login_required
def ping(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping/", ping), *site_urlpatterns]
