from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "lipsync_site.jobs"
    label = "jobs"
