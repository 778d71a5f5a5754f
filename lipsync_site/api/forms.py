from django import forms

from lipsync_site.api.models import Scope, WebhookEvent


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="What uses it, e.g. “launch pipeline”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, initial=[Scope.READ], widget=forms.CheckboxSelectMultiple, label="Scopes"
    )
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        initial=90,
        required=False,
        label="Expires after (days)",
        help_text="Empty: never (not advised).",
    )


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, initial=WebhookEvent.values, widget=forms.CheckboxSelectMultiple, label="Events"
    )
