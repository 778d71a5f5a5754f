from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspacesConfig(AppConfig):
    name = "lipsync_site.workspaces"
    verbose_name = _("Workspaces")
    label = "workspaces"

    def ready(self):
        from lipsync_site.workspaces import signals  # noqa: F401  (allauth's sign-up hands over invitations)
