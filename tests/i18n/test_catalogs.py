"""The Chinese catalogs are complete, consistent and compiled."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from django.core.management import call_command
from django.utils import translation

from lipsync_site.accounts.management.commands.compile_catalogs import catalogs

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%%")


def messages():
    for path in catalogs():
        with path.open("rb") as source:
            for message in read_po(source, locale=path.parent.parent.name):
                if message.id:
                    yield path.name, message


def test_there_are_catalogs_for_the_site_and_its_scripts():
    assert {path.name for path in catalogs()} == {"django.po", "djangojs.po"}


def test_every_msgid_has_a_translation():
    missing = [
        (name, message.id)
        for name, message in messages()
        if not (message.string if isinstance(message.string, str) else all(message.string))
    ]
    assert not missing, f"untranslated: {missing[:10]}"


def test_no_translation_is_fuzzy():
    assert not [message.id for _, message in messages() if message.fuzzy]


def test_translations_keep_every_placeholder():
    for name, message in messages():
        original = message.id[0] if isinstance(message.id, tuple) else message.id
        translated = message.string[0] if isinstance(message.string, tuple) else message.string
        assert sorted(PLACEHOLDER.findall(original)) == sorted(PLACEHOLDER.findall(translated)), (name, original)


def test_the_committed_mo_files_are_what_the_po_files_compile_to():
    call_command("compile_catalogs", "--check")


def test_django_reads_the_compiled_catalog():
    with translation.override("zh-hans"):
        assert translation.gettext("New job") == "新建任务"
        assert translation.ngettext("%(count)s job matches.", "%(count)s jobs match.", 3) % {"count": 3} == (
            "3 个任务符合条件。"
        )
    with translation.override("en"):
        assert translation.gettext("New job") == "New job"
