from allauth.account.models import EmailAddress
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
def ensure_user(*, username: str, email: str, password: str, is_staff: bool = False):
    """An account made by the site (seed, tests) rather than by sign-up: its address is
    recorded as verified, and the password is (re)set. Returns (user, created)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email, "is_staff": is_staff})
    user.email = email
    user.is_staff = user.is_staff or is_staff
    user.set_password(password)
    user.save(update_fields=["email", "is_staff", "password"])
    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).update(primary=False)
    EmailAddress.objects.update_or_create(user=user, email=email.lower(), defaults={"verified": True, "primary": True})
    return user, created


@transaction.atomic
def create_moderator(*, username: str, password: str, email: str = ""):
    user, created = ensure_user(
        username=username, email=email or f"{username}@example.com", password=password, is_staff=True
    )
    user.groups.add(ensure_moderator_group())
    return user, created
