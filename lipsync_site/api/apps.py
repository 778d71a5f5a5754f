from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "lipsync_site.api"
    label = "api"
    verbose_name = _("API and webhooks")

    def ready(self):
        from lipsync_site.api import receivers  # noqa: F401  (webhook events from jobs and consent)
