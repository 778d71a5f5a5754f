from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

MODERATORS_GROUP = "Moderators"
# What a moderator may do: judge consent, and read (never change) the records.
MODERATOR_PERMISSIONS = (
    ("consent", "moderate_attestation"),
    ("consent", "view_attestation"),
    ("consent", "view_decision"),
)


def ensure_moderators_group(sender, using="default", **kwargs):
    """Keep the moderators' group in step on every migrate.

    Runs on the consent app's post_migrate (this app has no models, so Django sends it
    none), after auth has created that app's permissions.
    """
    if getattr(sender, "label", None) != "consent":
        return
    from lipsync_site.moderation.services import ensure_moderators_group as ensure

    ensure(using=using)


class ModerationConfig(AppConfig):
    name = "lipsync_site.moderation"
    verbose_name = _("Moderation")
    label = "moderation"

    def ready(self):
        post_migrate.connect(ensure_moderators_group, dispatch_uid="moderation.ensure_group")
