from django import forms
from django.utils.translation import gettext_lazy as _


class GrantForm(forms.Form):
    """An admin's grant (positive) or correction (negative), always with a reason."""

    amount = forms.IntegerField(
        label=_("Amount"), help_text=_("Credits to add; a negative number corrects the balance down.")
    )
    reason = forms.CharField(max_length=300, label=_("Reason"), help_text=_("Shown in the workspace's credit history."))

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("A grant must change the balance."))
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why: the workspace sees this reason."))
        return reason
