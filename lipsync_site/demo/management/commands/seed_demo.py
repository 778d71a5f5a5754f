"""``make run``'s demo: the workspace "Demo marketing" with an owner, a member and a
viewer, its credits, and a site moderator. Idempotent; prints every password.

On the top floor (the demo app): it makes people, a workspace, credits and a moderator
through each app's services.
"""

import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from lipsync_site.accounts.services import ensure_user
from lipsync_site.credits.models import LedgerEntry
from lipsync_site.credits.services import grant_credits
from lipsync_site.moderation.services import create_moderator
from lipsync_site.workspaces.models import Membership, Workspace
from lipsync_site.workspaces.roles import Role

WORKSPACE_NAME = "Demo marketing"
PEOPLE = [
    # username, role, what they can do
    ("demo", Role.OWNER, "owner: jobs, members, roles, spending caps"),
    ("member", Role.MEMBER, "member: makes and reviews jobs"),
    ("viewer", Role.VIEWER, "viewer: watches, downloads, comments"),
]


def _password(name: str) -> str:
    return os.environ.get(f"{name.upper()}_PASSWORD") or f"{name}-" + secrets.token_urlsafe(6)


class Command(BaseCommand):
    help = "Create the demo workspace (owner, member, viewer, credits) and a moderator; prints their passwords."

    def add_arguments(self, parser):
        parser.add_argument("--credits", type=int, default=1000)

    def handle(self, *args, **options):
        passwords = {name: _password(name) for name, _, _ in PEOPLE}
        passwords["moderator"] = _password("moderator")
        with transaction.atomic():
            workspace = Workspace.objects.filter(name=WORKSPACE_NAME, personal=False).order_by("pk").first()
            if workspace is None:
                workspace = Workspace.objects.create(name=WORKSPACE_NAME)
            for name, role, _ in PEOPLE:
                user, _ = ensure_user(username=name, email=f"{name}@example.com", password=passwords[name])
                Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
            first_time = not LedgerEntry.objects.filter(account__workspace=workspace).exists()
            if first_time:
                grant_credits(workspace=workspace, amount=options["credits"], reason="Demo workspace allowance")
            ensure_user(
                username="moderator", email="moderator@example.com", password=passwords["moderator"], is_staff=True
            )
            create_moderator(username="moderator", password=passwords["moderator"])
        self.stdout.write(self.style.SUCCESS(f'Demo workspace "{WORKSPACE_NAME}" ready at http://127.0.0.1:8000/'))
        for name, _, what in PEOPLE:
            self.stdout.write(f"  {name:<10} {name} / {passwords[name]}  ({what})")
        self.stdout.write(f"  moderator  moderator / {passwords['moderator']}  (site staff: consent queue at /admin/)")
        if first_time:
            self.stdout.write(f"  {options['credits']} credits granted to the workspace.")
