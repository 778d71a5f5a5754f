from django.contrib import admin
from django.utils.html import format_html

from lipsync_site.jobs.models import Job, JobEvent


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "from_status", "to_status", "actor", "message", "payload")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "status",
        "route_id",
        "estimated_credits",
        "charged_credits",
        "lipsync_check",
        "submit_attempts",
        "lease_owner",
        "created_at",
    )
    list_filter = ("status", "route_id", "provider", "mouth_moving")
    date_hierarchy = "created_at"
    search_fields = ("id", "owner__username", "provider_request_id")
    inlines = [JobEventInline]
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Lip-sync check", ordering="lipsync_score")
    def lipsync_check(self, obj):
        if obj.mouth_moving is None:
            return "-"
        if obj.mouth_moving:
            return format_html("{} ({})", "moving", f"{obj.lipsync_score:.2f}")
        return format_html(
            '<strong style="color:#b45309">{}</strong> ({})', "mouth may not be moving", f"{obj.lipsync_score:.2f}"
        )
