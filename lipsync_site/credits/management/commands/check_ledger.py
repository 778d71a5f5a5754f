"""``manage.py check_ledger``: exit 1 and list the problems if any invariant is broken."""

from django.core.management.base import BaseCommand, CommandError

from lipsync_site.credits.invariants import ledger_problems


class Command(BaseCommand):
    help = (
        "Check the credit ledger: cached balances equal the sum of entries, no balance below zero, "
        "every hold placed once and settled at most once, every finished job settled exactly once."
    )

    def handle(self, *args, **options):
        problems = ledger_problems()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} ledger problem(s)")
        self.stdout.write(self.style.SUCCESS("Ledger clean."))
