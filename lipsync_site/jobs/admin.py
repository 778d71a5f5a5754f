from django.contrib import admin
from django.utils.html import format_html

from lipsync_site.jobs.models import Job, JobEvent, OutputReview


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "from_status", "to_status", "actor", "message", "payload")

    def has_add_permission(self, request, obj=None):
        return False


class OutputReviewInline(admin.TabularInline):
    """The team's review marks on the output (approved, needs changes, rejected)."""

    model = OutputReview
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "author", "verdict", "comment")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "workspace",
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
    list_filter = ("status", "route_id", "provider", "mouth_moving", ("events__kind", admin.AllValuesFieldListFilter))
    date_hierarchy = "created_at"
    search_fields = ("id", "owner__username", "workspace__name", "provider_request_id")
    inlines = [JobEventInline, OutputReviewInline]
    readonly_fields = [field.name for field in Job._meta.fields]

    class Media:
        css = {"all": ("css/admin.css",)}

    def has_add_permission(self, request):
        return False

    @admin.display(description="Lip-sync check", ordering="lipsync_score")
    def lipsync_check(self, obj):
        if not obj.checked:
            return "-"
        words = "; ".join(obj.lipsync_words)
        if obj.lipsync_problems:
            return format_html('<strong class="check-flagged">{}</strong> ({})', words, f"{obj.lipsync_score:.2f}")
        return format_html("{} ({})", words, f"{obj.lipsync_score:.2f}")


@admin.register(JobEvent)
class JobEventAdmin(admin.ModelAdmin):
    """Every job's events, filtered by their code (``submit.unknown``, ``cancel.refused``...)."""

    list_display = ("at", "kind", "job", "from_status", "to_status", "actor", "message")
    list_filter = ("kind", "to_status")
    date_hierarchy = "at"
    search_fields = ("job__id", "message")
    list_select_related = ("job",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in JobEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
