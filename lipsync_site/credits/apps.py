from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def open_account_for_new_workspace(sender, instance, created, raw=False, **kwargs):
    """Every workspace has its (empty) credit account from the start, so site admins find
    it in the credit accounts list to grant to. The workspaces app knows nothing of credits."""
    if created and not raw:
        from lipsync_site.credits.models import CreditAccount

        CreditAccount.objects.get_or_create(workspace=instance)


class CreditsConfig(AppConfig):
    name = "lipsync_site.credits"
    verbose_name = _("Credits")
    label = "credits"

    def ready(self):
        from lipsync_site.workspaces.models import Workspace

        post_save.connect(open_account_for_new_workspace, sender=Workspace, dispatch_uid="credits.open_account")
