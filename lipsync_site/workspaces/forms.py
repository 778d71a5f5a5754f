from django import forms
from django.utils.translation import gettext_lazy as _

from lipsync_site.workspaces.roles import Role


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Workspace name"))

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the workspace a name."))
        return name


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER, label=_("Role"))

    def __init__(self, *args, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["role"].choices = [(role.value, role.label) for role in roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label=_("Role"))


class SpendCapForm(forms.Form):
    monthly_spend_cap = forms.IntegerField(
        min_value=0, required=False, label=_("Monthly cap (credits)"), help_text=_("Empty: no cap.")
    )


class SwitchForm(forms.Form):
    workspace = forms.IntegerField(widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
