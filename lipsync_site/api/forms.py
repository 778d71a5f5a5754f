from django import forms
from django.utils.translation import gettext_lazy as _

from lipsync_site.api.models import Scope, WebhookEvent


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"), help_text=_("What uses it, e.g. “launch pipeline”."))
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, initial=[Scope.READ], widget=forms.CheckboxSelectMultiple, label=_("Scopes")
    )
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=90,
        required=False,
        label=_("Expires after (days)"),
        help_text=_("Empty: never (not advised)."),
    )


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label=_("URL"), assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        initial=WebhookEvent.values,
        widget=forms.CheckboxSelectMultiple,
        label=_("Events"),
    )
