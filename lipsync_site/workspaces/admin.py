from django.contrib import admin

from lipsync_site.workspaces.models import Invitation, Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "workspace"
    extra = 0
    fields = ("user", "role", "monthly_spend_cap", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)


class InvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    fields = ("email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    """Site admins see every team; credits are granted from the credit account list."""

    list_display = ("name", "personal", "members", "balance", "created_at")
    search_fields = ("name", "memberships__user__username", "memberships__user__email")
    list_filter = ("personal",)
    inlines = [MembershipInline, InvitationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credit_account").prefetch_related("memberships")

    @admin.display(description="Members")
    def members(self, obj):
        return len(obj.memberships.all())

    @admin.display(description="Credits")
    def balance(self, obj):
        account = getattr(obj, "credit_account", None)
        return account.balance if account else 0
