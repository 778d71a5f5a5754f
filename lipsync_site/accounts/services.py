from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction


@transaction.atomic
def ensure_user(*, username: str, email: str, password: str, is_staff: bool = False):
    """An account made by the site (the demo seed, an operator) rather than by sign-up:
    its address is recorded as verified and the password is (re)set. Returns (user, created)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email, "is_staff": is_staff})
    user.email = email
    user.is_staff = user.is_staff or is_staff
    user.set_password(password)
    user.save(update_fields=["email", "is_staff", "password"])
    EmailAddress.objects.filter(user=user).exclude(email__iexact=email).update(primary=False)
    EmailAddress.objects.update_or_create(user=user, email=email.lower(), defaults={"verified": True, "primary": True})
    return user, created


def choose_language(*, user, language: str) -> None:
    """Remember the user's language (pages and the e-mails others' actions send them)."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"{language!r} is not one of the site's languages")
    get_user_model().objects.filter(pk=user.pk).update(language=language)
    user.language = language
