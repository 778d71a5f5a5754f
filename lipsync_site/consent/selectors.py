"""Reads of consent records for the moderation queue and the job pages."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from lipsync_site.consent.models import Attestation, Decision


def pending_attestations():
    """Attestations no moderator has decided yet, oldest first (a queue, not a pile)."""
    decided = Decision.objects.filter(attestation=OuterRef("pk"))
    return (
        Attestation.objects.filter(~Exists(decided))
        .select_related("user", "evidence")
        .prefetch_related("jobs__source_video", "jobs__portrait", "jobs__voice", "jobs__poster")
        .order_by("created_at", "pk")
    )


def decision_history(user, *, exclude=None, recent: int = 3) -> dict:
    """How a user's earlier attestations were judged: counts and the latest decisions."""
    decisions = Decision.objects.filter(attestation__user=user)
    if exclude is not None:
        decisions = decisions.exclude(attestation=exclude)
    counts = decisions.aggregate(
        approved=Count("pk", filter=Q(outcome=Decision.Outcome.APPROVED)),
        rejected=Count("pk", filter=Q(outcome=Decision.Outcome.REJECTED)),
    )
    pending = (
        Attestation.objects.filter(user=user)
        .exclude(pk=getattr(exclude, "pk", None))
        .filter(~Exists(Decision.objects.filter(attestation=OuterRef("pk"))))
        .count()
    )
    latest = list(decisions.select_related("moderator").order_by("-created_at", "-pk")[:recent])
    return {**counts, "pending": pending, "latest": latest}


def with_decisions(queryset):
    return queryset.prefetch_related(Prefetch("decisions", queryset=Decision.objects.order_by("created_at", "pk")))
