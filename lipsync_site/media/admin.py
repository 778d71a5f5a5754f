from django.contrib import admin

from lipsync_site.media.models import Asset


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "workspace",
        "owner",
        "kind",
        "origin",
        "original_name",
        "size_bytes",
        "duration_seconds",
    )
    list_filter = ("kind", "origin")
    search_fields = ("sha256", "original_name", "owner__username", "workspace__name")
    readonly_fields = [field.name for field in Asset._meta.fields]
