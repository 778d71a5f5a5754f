from django.apps import AppConfig
from django.db.models.signals import post_migrate

MODERATORS_GROUP = "Moderators"
# What a moderator may do: judge consent, and read (never change) the records.
MODERATOR_PERMISSIONS = (
    ("consent", "moderate_attestation"),
    ("consent", "view_attestation"),
    ("consent", "view_decision"),
)


def ensure_moderators_group(sender, using="default", **kwargs):
    """The moderator group with its own permissions, kept in step on every migrate.

    Runs on the consent app's post_migrate (this app has no models, so Django sends it
    none), after auth has created that app's permissions. Make a user a moderator by
    adding them to the group and giving them staff status (the queue lives in the admin).
    """
    if getattr(sender, "label", None) != "consent":
        return
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name=MODERATORS_GROUP)
    permissions = [
        Permission.objects.using(using).filter(content_type__app_label=app, codename=codename).first()
        for app, codename in MODERATOR_PERMISSIONS
    ]
    group.permissions.add(*[permission for permission in permissions if permission is not None])


class ModerationConfig(AppConfig):
    name = "lipsync_site.moderation"
    label = "moderation"

    def ready(self):
        post_migrate.connect(ensure_moderators_group, dispatch_uid="moderation.ensure_group")
