"""Creates the demo account (1,000 credits) and a moderator for ``make run``. Idempotent."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from lipsync_site.credits.services import grant_credits
from lipsync_site.moderation.services import create_moderator


class Command(BaseCommand):
    help = "Create the demo user and a moderator (prints their passwords)."

    def add_arguments(self, parser):
        parser.add_argument("--credits", type=int, default=1000)

    def handle(self, *args, **options):
        demo_password = os.environ.get("DEMO_PASSWORD") or "demo-" + secrets.token_urlsafe(6)
        moderator_password = os.environ.get("MODERATOR_PASSWORD") or "mod-" + secrets.token_urlsafe(6)
        user_model = get_user_model()
        with transaction.atomic():
            demo, created = user_model.objects.get_or_create(username="demo", defaults={"email": "demo@example.com"})
            demo.set_password(demo_password)
            demo.save(update_fields=["password"])
            if created:
                grant_credits(user=demo, amount=options["credits"], reason="Demo account allowance")
            moderator, _ = create_moderator(username="moderator", password=moderator_password)
            moderator.set_password(moderator_password)
            moderator.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS("Demo accounts ready at http://127.0.0.1:8000/"))
        self.stdout.write(f"  user:      demo / {demo_password}  ({options['credits']} credits on first creation)")
        self.stdout.write(f"  moderator: moderator / {moderator_password}  (admin at /admin/)")
