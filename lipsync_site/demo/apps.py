from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo seed for ``make run`` (``manage.py seed_demo``). It stands on the top floor:
    it makes users, grants credits and appoints a moderator through each app's services."""

    name = "lipsync_site.demo"
    verbose_name = _("Demo")
    label = "demo"
