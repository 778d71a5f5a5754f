from django.urls import path

from lipsync_site.monitoring import health, metrics

app_name = "monitoring"
urlpatterns = [
    path("health/", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
]
