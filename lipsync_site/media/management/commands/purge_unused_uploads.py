"""Delete uploads that were checked on the new-job form but never used.

Every file is stored when the form checks it (so later steps never upload it again);
one the user walked away from is removed here after a grace period. Anything a job, an
attestation or a derived input points at is kept. Run it from cron or a schedule.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Exists, OuterRef
from django.utils import timezone

from lipsync_site.media.models import Asset


def unused_uploads(older_than: timedelta):
    # A prepared voice (trimmed or padded by us) is what the job points at; keep its original.
    used_derivative = Asset.objects.filter(derived_from=OuterRef("pk"), jobs_as_voice__isnull=False)
    return Asset.objects.filter(
        origin=Asset.Origin.UPLOAD,
        created_at__lt=timezone.now() - older_than,
        jobs_as_video__isnull=True,
        jobs_as_portrait__isnull=True,
        jobs_as_voice__isnull=True,
        evidence_for__isnull=True,
    ).exclude(Exists(used_derivative))


class Command(BaseCommand):
    help = "Delete uploads no job or attestation uses, older than --hours (default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24.0)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, hours, dry_run, **options):
        removed = 0
        for asset in unused_uploads(timedelta(hours=hours)).distinct():
            if dry_run:
                self.stdout.write(f"would delete {asset.pk} ({asset.kind}, {asset.size_bytes} bytes)")
                removed += 1
                continue
            for derived in asset.derivatives.all():
                derived.file.delete(save=False)
            asset.file.delete(save=False)
            asset.delete()
            removed += 1
        self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {removed} unused upload(s)")
