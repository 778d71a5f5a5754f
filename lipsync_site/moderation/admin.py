from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.html import format_html

from lipsync_site.consent.models import Attestation, Decision
from lipsync_site.moderation.services import approve_attestation, reject_attestation


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    can_delete = False
    readonly_fields = ("outcome", "moderator", "reason", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The owner sees this on the job page.")


class ReviewStateFilter(admin.SimpleListFilter):
    title = "review state"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected")]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(decisions__isnull=True)
        if self.value() in {"approved", "rejected"}:
            return queryset.filter(decisions__outcome=self.value()).distinct()
        return queryset


@admin.register(Attestation)
class AttestationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "person_name", "voice_provenance", "public_figure", "review")
    list_filter = (ReviewStateFilter, "public_figure", "voice_provenance")
    search_fields = ("person_name", "speaker_name", "user__username")
    ordering = ("created_at",)
    inlines = [DecisionInline]
    actions = ["approve", "reject"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Attestation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Review")
    def review(self, obj):
        state = obj.review_state
        colour = {"approved": "green", "rejected": "#b00", "pending": "#a60"}[state]
        return format_html('<strong style="color:{}">{}</strong>', colour, state)

    def has_moderate_permission(self, request):
        return request.user.has_perm("consent.moderate_attestation")

    @admin.action(description="Approve selected attestations", permissions=["moderate"])
    def approve(self, request, queryset):
        for attestation in queryset:
            approve_attestation(attestation=attestation, moderator=request.user)
        self.message_user(request, f"Approved {queryset.count()} attestation(s).", messages.SUCCESS)

    @admin.action(description="Reject selected attestations…", permissions=["moderate"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for attestation in queryset:
                reject_attestation(attestation=attestation, moderator=request.user, reason=form.cleaned_data["reason"])
            self.message_user(
                request, f"Rejected {queryset.count()} attestation(s); their jobs were stopped.", messages.WARNING
            )
            return None
        return render(
            request,
            "moderation/reject.html",
            {**self.admin_site.each_context(request), "form": form, "attestations": queryset, "opts": self.model._meta},
        )
