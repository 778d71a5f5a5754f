from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

MODERATORS_GROUP = "Moderators"


@transaction.atomic
def ensure_moderator_group() -> Group:
    """The moderators' group with exactly the permissions moderation needs."""
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label="consent", codename__in=["moderate_attestation", "view_attestation", "view_decision"]
    )
    group.permissions.set(wanted)
    return group


@transaction.atomic
def create_moderator(*, username: str, password: str, email: str = ""):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email, "is_staff": True})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    user.groups.add(ensure_moderator_group())
    return user, created
