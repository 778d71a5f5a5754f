from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Q


def verified_emails(user) -> list[str]:
    """The addresses this account has proved it receives mail at."""
    if user is None or not user.is_authenticated:
        return []
    return list(EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True))


def users_with_email(email: str):
    """Accounts that use ``email``, verified or not (to refuse inviting an existing member)."""
    return get_user_model().objects.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email)).distinct()
