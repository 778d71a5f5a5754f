from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "lipsync_site.providers"
    label = "providers"
