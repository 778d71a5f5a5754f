from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from lipsync_site.credits.forms import GrantForm
from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.credits.services import InsufficientCredits, adjust_credits, grant_credits


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ("workspace", "balance", "updated_at")
    search_fields = ("workspace__name", "workspace__memberships__user__username")
    readonly_fields = ("workspace", "balance", "updated_at")
    actions = ["grant_credits"]

    @admin.action(description=_("Grant credits (with a reason)"), permissions=["change"])
    def grant_credits(self, request, queryset):
        """Every grant is a ledger entry with the admin as actor and the reason shown to the workspace."""
        form = GrantForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            done = 0
            for account in queryset.select_related("workspace"):
                try:
                    if amount > 0:
                        grant_credits(workspace=account.workspace, amount=amount, reason=reason, actor=request.user)
                    else:
                        adjust_credits(workspace=account.workspace, amount=amount, reason=reason, actor=request.user)
                except InsufficientCredits as exc:
                    self.message_user(request, f"{account.workspace}: {exc}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"{amount:+d} credits for {done} account(s): {reason}", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/credits/grant.html",
            {**self.admin_site.each_context(request), "form": form, "accounts": queryset, "title": _("Grant credits")},
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "kind", "amount", "reference", "member", "actor", "reason")
    list_filter = ("kind",)
    search_fields = ("account__workspace__name", "member__username", "reference", "reason")
    readonly_fields = [field.name for field in LedgerEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "placed_by", "amount", "status", "captured_amount", "reference")
    list_filter = ("status",)
    search_fields = ("reference", "account__workspace__name", "placed_by__username")
    readonly_fields = [field.name for field in Hold._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
