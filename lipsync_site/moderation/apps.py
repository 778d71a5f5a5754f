from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "lipsync_site.moderation"
    label = "moderation"
