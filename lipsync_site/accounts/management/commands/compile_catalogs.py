"""Compile the translation catalogs (locale/*/LC_MESSAGES/*.po) to the .mo files Django
reads, with Babel: no GNU gettext needed. The .mo files are committed, so `make run` and a
deploy need nothing; `--check` (run by the tests) fails when one is out of date."""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogs() -> list[Path]:
    """Every .po file of the site's own catalogs."""
    return sorted(path for folder in settings.LOCALE_PATHS for path in Path(folder).glob("*/LC_MESSAGES/*.po"))


def compiled(po_path: Path) -> bytes:
    """The .mo bytes for one .po file (fuzzy entries left out, as msgfmt does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo with Babel (no GNU gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report .mo files that are out of date.")

    def handle(self, *args, check: bool = False, **options):
        stale = []
        for po_path in catalogs():
            mo_path = po_path.with_suffix(".mo")
            data = compiled(po_path)
            if mo_path.exists() and mo_path.read_bytes() == data:
                continue
            stale.append(mo_path)
            if not check:
                mo_path.write_bytes(data)
                self.stdout.write(f"compiled {mo_path.relative_to(settings.BASE_DIR)}")
        if check and stale:
            names = ", ".join(str(path.relative_to(settings.BASE_DIR)) for path in stale)
            raise CommandError(f"out of date (run manage.py compile_catalogs): {names}")
