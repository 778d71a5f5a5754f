"""Preflight: what the seeds' input-quality advice says about these files, before any
credit is held.

Pure functions over stored assets (their probed facts and ``analysis``), so the form can
run them on every step without touching the files again. Each check says pass, warn or
block, with one line of reason and the advice behind it. Route limits (duration, size,
resolution) are not here: they depend on the catalog, see ``jobs.services.creation``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from lipsync_site.media.models import Asset
from lipsync_site.media.render import remap_problem

PASS, WARN, BLOCK = "pass", "warn", "block"
LEVEL_LABELS = {PASS: _("pass"), WARN: _("warn"), BLOCK: _("block")}

MISMATCH_TOLERANCE = 0.10  # durations more than 10% apart drift (seed 000)
MIN_PORTRAIT_SIDE = 512  # seed 002: "at least 512x512px"
SMALL_FACE = 0.10  # a face under a tenth of the frame's height gives the mouth too few pixels
SILENT_DBFS = -50.0
MIN_ACTIVE_FRACTION = 0.03
CLIPPED_FRACTION = 0.001

ADVICE = {
    "face": _(
        "Use footage with a clear, front-facing or near-front-facing face; profiles beyond about 45 degrees "
        "and hands near the mouth reduce fidelity."
    ),
    "face_small": _("Crop or reframe so the face fills more of the picture: head-and-shoulders works best."),
    "faces_many": _(
        "Choose who speaks on the poster. Routes that cannot be told pick a face themselves: for "
        "those, crop the video to the speaker."
    ),
    "portrait_size": _(
        "Use a high-resolution portrait (at least 512x512 px) with a neutral expression and even light."
    ),
    "silent": _("The voice drives the mouth: upload the recording with the speech in it."),
    "clipped": _(
        "Clipped audio distorts the mouth shapes; re-export the voice at a lower level (WAV or "
        "high-bitrate AAC preferred)."
    ),
    "mismatch": _(
        "Trim the voice or use a longer video, or choose below how to fit them (loop the video, add "
        "silence, or cut the end)."
    ),
    "unchecked": _("We could not look inside this file; check it yourself before paying."),
    "remap": _("Remap suits voices a little shorter or longer than the video (a re-recorded line, a dub)."),
}


@dataclass(frozen=True)
class Check:
    code: str
    level: str  # pass, warn, block
    subject: str  # what the check is about, for the user ("Portrait", "Voice 2: french.mp3")
    reason: str  # one line
    advice: str = ""
    # A block the user may lift by confirming explicitly (a stylized character has no
    # face the detector knows).
    confirmable: bool = False

    @property
    def blocks(self) -> bool:
        return self.level == BLOCK

    @property
    def level_label(self) -> str:
        """pass, warn or block, in the reader's language."""
        return str(LEVEL_LABELS.get(self.level, self.level))


def face_checks(asset: Asset, *, subject: str, confirmed_no_face: bool) -> list[Check]:
    """Faces in a portrait, or in the frames sampled across a video."""
    analysis = asset.analysis or {}
    samples = analysis.get("faces")
    if "error" in analysis or samples is None:
        return [
            Check("face", WARN, subject, gettext("We could not look for a face in this file."), ADVICE["unchecked"])
        ]
    with_face = [faces for faces in samples if faces]
    if not with_face:
        if asset.kind == Asset.Kind.IMAGE:
            where = gettext("the portrait")
        elif len(samples) == 1:
            where = gettext("the video (at the moment we looked at)")
        else:
            where = gettext("the video (at any of the %(count)d moments we looked at)") % {"count": len(samples)}
        if confirmed_no_face:
            return [
                Check(
                    "face",
                    WARN,
                    subject,
                    gettext("No face found in %(where)s; you confirmed it is a stylized character.") % {"where": where},
                    ADVICE["face"],
                )
            ]
        return [
            Check(
                "face",
                BLOCK,
                subject,
                gettext("No face found in %(where)s: the provider would charge for a video in which no mouth moves.")
                % {"where": where},
                ADVICE["face"] + " " + gettext("If this is a stylized character, confirm below to go ahead."),
                confirmable=True,
            )
        ]
    checks = []
    if asset.kind == Asset.Kind.VIDEO and len(with_face) < len(samples):
        checks.append(
            Check(
                "face",
                WARN,
                subject,
                gettext("The face is out of view at times: visible at %(seen)d of the %(count)d moments we looked at.")
                % {"seen": len(with_face), "count": len(samples)},
                ADVICE["face"],
            )
        )
    else:
        checks.append(Check("face", PASS, subject, gettext("A face is visible."), ""))
    largest = sorted(max(face[3] for face in faces) for faces in with_face)[len(with_face) // 2]
    if largest < SMALL_FACE:
        checks.append(
            Check(
                "face_small",
                WARN,
                subject,
                gettext("The face is small: about %(share)s of the picture's height.") % {"share": f"{largest:.0%}"},
                ADVICE["face_small"],
            )
        )
    # Detections are merged per frame (see media.faces), so one face is never counted twice.
    most = max(len(faces) for faces in samples)
    if most > 1:
        checks.append(
            Check(
                "faces_many",
                WARN,
                subject,
                gettext("%(count)d faces are in frame at once.") % {"count": most},
                ADVICE["faces_many"],
            )
        )
    return checks


def portrait_size_check(portrait: Asset, *, subject: str) -> Check:
    width, height = portrait.width or 0, portrait.height or 0
    if min(width, height) < MIN_PORTRAIT_SIDE:
        return Check(
            "portrait_size",
            WARN,
            subject,
            gettext("The portrait is %(size)s px, under 512x512.") % {"size": f"{width}x{height}"},
            ADVICE["portrait_size"],
        )
    return Check(
        "portrait_size", PASS, subject, gettext("The portrait is %(size)s px.") % {"size": f"{width}x{height}"}
    )


def audio_checks(voice: Asset, *, subject: str) -> list[Check]:
    levels = (voice.analysis or {}).get("audio")
    if not levels:
        return [
            Check(
                "audio_level",
                WARN,
                subject,
                gettext("We could not measure this recording's level."),
                ADVICE["unchecked"],
            )
        ]
    if levels["rms_dbfs"] < SILENT_DBFS or levels["active_fraction"] < MIN_ACTIVE_FRACTION:
        return [
            Check(
                "audio_level",
                BLOCK,
                subject,
                gettext("The recording is silent or nearly so: there is sound in only %(share)s of it.")
                % {"share": f"{levels['active_fraction']:.0%}"},
                ADVICE["silent"],
            )
        ]
    checks = [Check("audio_level", PASS, subject, gettext("The voice is at a good level."))]
    if levels["clipped_fraction"] > CLIPPED_FRACTION:
        checks.append(
            Check(
                "audio_clipped",
                WARN,
                subject,
                gettext(
                    "The recording is distorted in places: too loud, so %(share)s of it is cut off "
                    "at full volume (clipped)."
                )
                % {"share": f"{levels['clipped_fraction']:.1%}"},
                ADVICE["clipped"],
            )
        )
    return checks


_TIMES = {
    2: _("twice as long as %(than)s"),
    3: _("three times as long as %(than)s"),
    4: _("four times as long as %(than)s"),
    5: _("five times as long as %(than)s"),
    6: _("six times as long as %(than)s"),
    7: _("seven times as long as %(than)s"),
    8: _("eight times as long as %(than)s"),
    9: _("nine times as long as %(than)s"),
    10: _("ten times as long as %(than)s"),
}


def how_much_longer(longer: float, shorter: float, *, than: str) -> str:
    """How much longer one length is than another, as people say it: "40% longer than the
    video", "twice as long as the video", "2.5 times as long as the video"."""
    if shorter <= 0:
        return gettext("much longer than %(than)s") % {"than": than}
    ratio = longer / shorter
    if ratio < 1.85:
        return gettext("%(share)s longer than %(than)s") % {"share": f"{ratio - 1:.0%}", "than": than}
    whole = round(ratio)
    if abs(ratio - whole) < 0.1:
        if whole in _TIMES:
            return _TIMES[whole] % {"than": than}
        return gettext("%(times)d times as long as %(than)s") % {"times": whole, "than": than}
    return gettext("%(times).1f times as long as %(than)s") % {"times": ratio, "than": than}


def durations_differ(video_seconds: float | None, audio_seconds: float | None) -> bool:
    if not video_seconds or not audio_seconds:
        return False
    return abs(video_seconds - audio_seconds) > MISMATCH_TOLERANCE * max(video_seconds, audio_seconds)


def mismatch_check(video: Asset, voice: Asset, *, subject: str) -> Check:
    video_s, voice_s = video.duration_seconds or 0.0, voice.duration_seconds or 0.0
    if durations_differ(video_s, voice_s):
        voice_longer = voice_s > video_s
        how_much = how_much_longer(
            max(video_s, voice_s),
            min(video_s, voice_s),
            than=gettext("the video") if voice_longer else gettext("the voice"),
        )
        message = (
            gettext("The voice lasts %(voice).1f s and the video %(video).1f s: the voice is %(how_much)s.")
            if voice_longer
            else gettext("The voice lasts %(voice).1f s and the video %(video).1f s: the video is %(how_much)s.")
        )
        return Check(
            "mismatch",
            WARN,
            subject,
            message % {"voice": voice_s, "video": video_s, "how_much": how_much},
            ADVICE["mismatch"],
        )
    return Check(
        "mismatch",
        PASS,
        subject,
        gettext("Voice %(voice).1f s, video %(video).1f s: close enough.") % {"voice": voice_s, "video": video_s},
    )


def remap_check(video: Asset, voice: Asset, *, subject: str) -> Check | None:
    """Remap retimes the picture to the voice: refused past half or double speed."""
    problem = remap_problem(video.duration_seconds or 0.0, voice.duration_seconds or 0.0)
    if problem:
        return Check("remap", BLOCK, subject, problem, ADVICE["remap"])
    return None


def run_checks(
    *,
    video: Asset | None = None,
    portrait: Asset | None = None,
    voices: list[Asset] = (),
    confirmed_no_face: bool = False,
    mismatch_mode: str = "",
) -> list[Check]:
    """Every media check for one submission (one picture, any number of voices).
    ``mismatch_mode`` is how voice and video lengths are to be fitted, when chosen."""
    checks: list[Check] = []
    if video is not None:
        checks += face_checks(
            video,
            subject=gettext("Video: %(name)s") % {"name": video.display_name},
            confirmed_no_face=confirmed_no_face,
        )
    if portrait is not None:
        subject = gettext("Portrait: %(name)s") % {"name": portrait.display_name}
        checks += face_checks(portrait, subject=subject, confirmed_no_face=confirmed_no_face)
        checks.append(portrait_size_check(portrait, subject=subject))
    for index, voice in enumerate(voices, start=1):
        subject = (
            gettext("Voice %(number)d: %(name)s") % {"number": index, "name": voice.display_name}
            if len(voices) > 1
            else gettext("Voice: %(name)s") % {"name": voice.display_name}
        )
        checks += audio_checks(voice, subject=subject)
        if video is not None:
            checks.append(mismatch_check(video, voice, subject=subject))
            if mismatch_mode == "remap" and (refused := remap_check(video, voice, subject=subject)):
                checks.append(refused)
    return checks
