from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from django.views.decorators.http import require_POST

from lipsync_site.consent.models import Attestation, Decision, VoiceProvenance
from lipsync_site.consent.selectors import decision_history, pending_attestations
from lipsync_site.jobs.workflow.review import rejection_consequences
from lipsync_site.media import links
from lipsync_site.moderation.services import approve_attestation, reject_attestation

QUEUE_PAGE_SIZE = 20
# Django 6.1's blank choice in the admin's selects: its own zh_Hans catalog has no entry yet,
# so ours (LOCALE_PATHS wins) carries it.
gettext_noop("- Select an option -")


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    can_delete = False
    readonly_fields = ("outcome", "moderator", "reason", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The owner sees this on the job page."),
        label=gettext_lazy("Reason"),
    )
    refund = forms.BooleanField(
        required=False,
        label=gettext_lazy("Refund the credits of delivered jobs (the provider was paid: we bear the cost)."),
    )


class ReviewStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("review state")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("pending", _("Pending")), ("approved", _("Approved")), ("rejected", _("Rejected"))]

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
    change_list_template = "moderation/attestation_change_list.html"

    def get_urls(self):
        queue = [
            path("queue/", self.admin_site.admin_view(self.queue_view), name="consent_attestation_queue"),
            path(
                "<uuid:attestation_id>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="consent_attestation_decide",
            ),
        ]
        return queue + super().get_urls()

    def queue_view(self, request):
        """Pending attestations, oldest first, with everything needed to judge at a glance."""
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        page = Paginator(pending_attestations(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
        items = [self._queue_item(request, attestation) for attestation in page]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Consent review queue"),
            "opts": self.model._meta,
            "page": page,
            "items": items,
            "reject_form": RejectForm(),
        }
        return render(request, "moderation/queue.html", context)

    def _queue_item(self, request, attestation):
        moderator = request.user

        def url(asset):
            return links.moderator_url(asset, user=moderator) if asset is not None else ""

        jobs = []
        for job in attestation.jobs.select_related("workspace"):
            jobs.append(
                {
                    "job": job,
                    "poster_url": url(job.poster)
                    if job.source_video and job.poster and job.poster.kind == "image"
                    else "",
                    "video_url": url(job.source_video),
                    "portrait_url": url(job.portrait),
                    "voice_url": url(job.voice),
                    "voice": job.voice,
                }
            )
        return {
            "attestation": attestation,
            "provenance": VoiceProvenance(attestation.voice_provenance).label
            if attestation.voice_provenance in VoiceProvenance.values
            else attestation.voice_provenance,
            "jobs": jobs,
            # Moderation is site-wide; the workspace tells the moderator which team asks.
            "workspaces": sorted({entry["job"].workspace.name for entry in jobs}),
            "evidence_url": url(attestation.evidence),
            "history": decision_history(attestation.user, exclude=attestation),
            "consequences": rejection_consequences(attestation.pk),
            "consequence_words": consequence_words(rejection_consequences(attestation.pk)),
        }

    def decide_view(self, request, attestation_id):
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        attestation = get_object_or_404(Attestation, pk=attestation_id)
        outcome = request.POST.get("outcome")
        back = reverse("admin:consent_attestation_queue") + (
            f"?page={request.POST['page']}" if request.POST.get("page", "").isdigit() else ""
        )
        if outcome == "approve":
            approve_attestation(attestation=attestation, moderator=request.user, reason=request.POST.get("reason", ""))
            self.message_user(
                request, _("Approved consent for %(name)s.") % {"name": attestation.person_name}, messages.SUCCESS
            )
        elif outcome == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                self.message_user(request, _("A rejection needs a reason: the owner sees it."), messages.ERROR)
                return redirect(back)
            refund = form.cleaned_data["refund"]
            reject_attestation(
                attestation=attestation, moderator=request.user, reason=form.cleaned_data["reason"], refund=refund
            )
            self.message_user(
                request,
                (
                    _(
                        "Rejected consent for %(name)s; its jobs were stopped, delivered ones revoked and refunded, "
                        "and their links no longer work."
                    )
                    if refund
                    else _(
                        "Rejected consent for %(name)s; its jobs were stopped, delivered ones revoked, and their "
                        "links no longer work."
                    )
                )
                % {"name": attestation.person_name},
                messages.WARNING,
            )
        else:
            self.message_user(request, _("Choose approve or reject."), messages.ERROR)
        return redirect(back)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Attestation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("Review"))
    def review(self, obj):
        state = obj.review_state
        colour = {"approved": "green", "rejected": "#b00", "pending": "#a60"}[state]
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.review_state_display)

    def has_moderate_permission(self, request):
        return request.user.has_perm("consent.moderate_attestation")

    @admin.action(description=gettext_lazy("Approve selected attestations"), permissions=["moderate"])
    def approve(self, request, queryset):
        for attestation in queryset:
            approve_attestation(attestation=attestation, moderator=request.user)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Approved %(count)d attestation.", "Approved %(count)d attestations.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Reject selected attestations…"), permissions=["moderate"])
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for attestation in queryset:
                reject_attestation(
                    attestation=attestation,
                    moderator=request.user,
                    reason=form.cleaned_data["reason"],
                    refund=form.cleaned_data["refund"],
                )
            count = queryset.count()
            self.message_user(
                request,
                ngettext(
                    "Rejected %(count)d attestation; its jobs were stopped.",
                    "Rejected %(count)d attestations; their jobs were stopped.",
                    count,
                )
                % {"count": count},
                messages.WARNING,
            )
            return None
        return render(
            request,
            "moderation/reject.html",
            {**self.admin_site.each_context(request), "form": form, "attestations": queryset, "opts": self.model._meta},
        )


def consequence_words(consequences) -> str:
    """What rejecting would do, in one sentence for the moderator."""
    released, delivered, credits = consequences.released, consequences.delivered, consequences.delivered_credits
    parts = []
    if released:
        parts.append(
            ngettext(
                "stop %(count)d unfinished job and return its credits",
                "stop %(count)d unfinished jobs and return their credits",
                released,
            )
            % {"count": released}
        )
    if delivered:
        parts.append(
            ngettext(
                "revoke %(count)d delivered job: ",
                "revoke %(count)d delivered jobs: ",
                delivered,
            )
            % {"count": delivered}
            + ngettext(
                "the owner loses the download and %(credits)d credit stays charged unless you tick refund",
                "the owner loses the download and %(credits)d credits stay charged unless you tick refund",
                credits,
            )
            % {"credits": credits}
        )
    if not parts:
        parts.append(_("change no job (they have all ended)"))
    return _("Rejecting will %(what)s; the owner is e-mailed the reason.") % {"what": _(", and ").join(parts)}
