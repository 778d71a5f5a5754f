from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "lipsync_site.media"
    label = "media"
