from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lipsync_site.api"
    label = "api"
    verbose_name = "API and webhooks"

    def ready(self):
        from lipsync_site.api import receivers  # noqa: F401  (webhook events from jobs and consent)
