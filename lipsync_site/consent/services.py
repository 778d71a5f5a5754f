from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from lipsync_site.consent import texts
from lipsync_site.consent.models import Attestation, Decision


class ConsentMissing(Exception):
    pass


@transaction.atomic
def record_attestation(
    *,
    user,
    likeness_consent: bool,
    voice_provenance: str,
    person_name: str,
    speaker_name: str = "",
    public_figure: bool = False,
    no_misuse: bool = True,
    evidence=None,
    media_sha256: list[str],
    ip_address: str | None,
    user_agent: str,
    text_version: str = texts.CURRENT_VERSION,
    picture: str = "video",
    voice: str = "recording",
    language: str = "en",
) -> Attestation:
    """Record what the user declared, with the exact wording they were shown (which, from
    2026-12-v3, depends on the kind of job: ``picture`` and ``voice``, see texts.wording),
    in the language they were shown it in (``language``; from 2026-12-v4 English or
    Simplified Chinese), and that wording's English for the moderator.

    A public figure needs evidence (a signed release) and always waits for a moderator.
    """
    if not likeness_consent or not voice_provenance or not person_name.strip():
        raise ConsentMissing(gettext_noop("consent, voice provenance and the person's name are required"))
    if not no_misuse:
        raise ConsentMissing(gettext_noop("the result must not be used to deceive, defame or as sexual material"))
    if public_figure and evidence is None:
        raise ConsentMissing(gettext_noop("a public figure needs their signed release as evidence"))
    answers = {
        "likeness_consent": bool(likeness_consent),
        "voice_provenance": voice_provenance,
        "public_figure": bool(public_figure),
        "no_misuse": bool(no_misuse),
        "person_name": person_name.strip(),
        "speaker_name": speaker_name.strip(),
        "evidence_sha256": evidence.sha256 if evidence is not None else "",
        "picture": picture,
        "voice": voice,
    }
    language = texts.language_of(language) if text_version >= texts.BILINGUAL_FROM else "en"
    shown = texts.shown_text(text_version, picture=picture, voice=voice, language=language)
    english = texts.shown_text(text_version, picture=picture, voice=voice, language="en")
    return Attestation.objects.create(
        user=user,
        text_version=text_version,
        text_shown=shown,
        text_language=language,
        text_shown_english=english if english != shown else "",
        likeness_consent=likeness_consent,
        voice_provenance=voice_provenance,
        person_name=person_name.strip(),
        speaker_name=speaker_name.strip(),
        public_figure=public_figure,
        answers=answers,
        evidence=evidence,
        media_sha256=sorted(set(media_sha256)),
        ip_address=ip_address,
        user_agent=(user_agent or "")[:400],
    )


def review_required_before_running(attestation: Attestation) -> bool:
    """Public figures always wait for a moderator; otherwise the site policy decides."""
    return attestation.public_figure or settings.CONSENT_REVIEW_POLICY == "before"


@transaction.atomic
def decide(*, attestation: Attestation, outcome: str, moderator, reason: str = "") -> Decision:
    """Append a moderator's decision. Consequences for jobs are the caller's (moderation)."""
    if outcome == Decision.Outcome.REJECTED and not reason.strip():
        raise ValueError("a rejection needs a reason the user will see")
    return Decision.objects.create(attestation=attestation, outcome=outcome, moderator=moderator, reason=reason.strip())
