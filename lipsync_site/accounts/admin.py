from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from lipsync_site.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "is_staff", "balance", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit_account")

    @admin.display(description="Credits")
    def balance(self, obj):
        account = getattr(obj, "credit_account", None)
        return account.balance if account else 0
