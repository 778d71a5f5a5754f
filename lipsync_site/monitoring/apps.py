from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "lipsync_site.monitoring"
    verbose_name = "Health and metrics"
