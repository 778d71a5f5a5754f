from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "lipsync_site.credits"
    label = "credits"
