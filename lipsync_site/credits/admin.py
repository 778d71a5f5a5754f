from django.contrib import admin

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "balance", "updated_at")
    search_fields = ("user__username",)
    readonly_fields = ("user", "balance", "updated_at")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "kind", "amount", "reference", "reason")
    list_filter = ("kind",)
    readonly_fields = [field.name for field in LedgerEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "amount", "status", "captured_amount", "reference")
    list_filter = ("status",)
    readonly_fields = [field.name for field in Hold._meta.fields]
