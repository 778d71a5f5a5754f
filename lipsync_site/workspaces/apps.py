from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "lipsync_site.workspaces"
    label = "workspaces"

    def ready(self):
        from lipsync_site.workspaces import signals  # noqa: F401  (allauth's sign-up hands over invitations)
