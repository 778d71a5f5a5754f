"""A moderator's decision and everything it sets in motion, in one transaction."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from lipsync_site.consent.models import Attestation, Decision
from lipsync_site.consent.services import decide
from lipsync_site.consent.signals import attestation_rejected
from lipsync_site.jobs.models import Job
from lipsync_site.jobs.workflow.review import admit_approved, stop_rejected
from lipsync_site.media.services import revoke_links
from lipsync_site.moderation.apps import MODERATOR_PERMISSIONS, MODERATORS_GROUP


def ensure_moderators_group(*, using: str = "default") -> Group:
    """The moderators' group with exactly the permissions moderation needs (judge consent,
    read the records, change nothing)."""
    group, _ = Group.objects.using(using).get_or_create(name=MODERATORS_GROUP)
    wanted = Q(pk__in=[])
    for app, codename in MODERATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app, codename=codename)
    group.permissions.set(Permission.objects.using(using).filter(wanted))
    return group


@transaction.atomic
def create_moderator(*, username: str, password: str, email: str = ""):
    """A staff user in the moderators' group (the queue lives in the admin)."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": email, "is_staff": True}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    user.groups.add(ensure_moderators_group())
    return user, created


@transaction.atomic
def approve_attestation(*, attestation: Attestation, moderator, reason: str = "") -> Decision:
    """Approve consent: jobs waiting for review join the queue."""
    decision = decide(attestation=attestation, outcome=Decision.Outcome.APPROVED, moderator=moderator, reason=reason)
    admit_approved(attestation_id=attestation.pk, actor=f"moderator:{moderator.pk}")
    return decision


@transaction.atomic
def reject_attestation(*, attestation: Attestation, moderator, reason: str, refund: bool = False) -> Decision:
    """Reject consent, all in one transaction: jobs not yet finished are stopped (waiting
    ones rejected, running ones cancelled) and their holds released; delivered ones are
    revoked, their credits kept unless ``refund``; every signed link to their media,
    posters and outputs stops working, including the originals of inputs we prepared and
    the evidence file. The owner sees the reason on the job page and in an e-mail.
    """
    decision = decide(attestation=attestation, outcome=Decision.Outcome.REJECTED, moderator=moderator, reason=reason)
    stop_rejected(attestation_id=attestation.pk, reason=reason, actor=f"moderator:{moderator.pk}", refund=refund)
    if attestation.evidence_id:
        revoke_links(asset_ids=[attestation.evidence_id])
    jobs = list(Job.objects.filter(attestation_id=attestation.pk).values_list("pk", "workspace_id"))
    attestation_rejected.send(sender=Attestation, attestation=attestation, reason=reason, job_ids=jobs)
    return decision
