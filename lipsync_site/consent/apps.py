from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "lipsync_site.consent"
    label = "consent"
