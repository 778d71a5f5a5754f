from django.contrib import admin

from lipsync_site.api.models import ApiToken, WebhookDelivery, WebhookEndpoint


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are made and revoked by the workspace's owners and admins."""

    list_display = ("name", "prefix", "workspace", "scopes", "created_by", "expires_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix", "workspace__name")
    exclude = ("secret_hash",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "workspace", "events", "active", "created_at")
    exclude = ("secret",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "endpoint", "status", "attempts", "response_status", "last_attempt_at")
    list_filter = ("status", "event")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
