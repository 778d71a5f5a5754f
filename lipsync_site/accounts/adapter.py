from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.utils.translation import gettext

from lipsync_site.accounts.signup import invited_email


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up is by invitation unless ``ACCOUNT_OPEN_SIGNUP`` is on."""

    def is_open_for_signup(self, request):
        return settings.ACCOUNT_OPEN_SIGNUP or bool(invited_email(request))

    def clean_email(self, email):
        email = super().clean_email(email)
        invited = invited_email(self.request) if self.request is not None else None
        if not settings.ACCOUNT_OPEN_SIGNUP and invited and email.lower() != invited.lower():
            raise forms.ValidationError(
                gettext("Your invitation was sent to %(email)s: sign up with that address.") % {"email": invited}
            )
        return email
