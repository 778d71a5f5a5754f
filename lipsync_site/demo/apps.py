from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo seed for ``make run`` (``manage.py seed_demo``). It stands on the top floor:
    it makes users, grants credits and appoints a moderator through each app's services."""

    name = "lipsync_site.demo"
    label = "demo"
