"""The route catalog: data, not logic.

Every model id, field and limit lives here so a correction is a one-line change. Prices
are in credits (1 credit = $0.01) per second of output, with a minimum per job. This module
is pure data: it reads no database and no settings. An admin can change a route's price or
switch it off without a deploy (``RouteOverride``); ``providers.routes`` applies those
overrides (``get_route``, ``available_routes``) and knows which routes are simulated;
``catalog_route`` here gives the shipped values.

Facts marked "unconfirmed" come from PROVIDERS.md where the public sources disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from lipsync_site.media.mismatch import ALL_MODES

MB = 1024 * 1024


class InputShape(models.TextChoices):
    VIDEO_AUDIO = "video_audio", _("Source video + voice audio (mouth swap)")
    PORTRAIT_AUDIO = "portrait_audio", _("Portrait + voice audio (talking head)")
    VIDEO_SCRIPT = "video_script", _("Source video + script")
    SCRIPT = "script", _("Script or prompt only")
    # HappyHorse image-to-video: a portrait that speaks a script (no audio file).
    PORTRAIT_SCRIPT = "portrait_script", _("Portrait + script")


# The inputs each shape needs, for forms: "video", "image", "audio", "text".
SHAPE_INPUTS: dict[str, tuple[str, ...]] = {
    InputShape.VIDEO_AUDIO: ("video", "audio"),
    InputShape.PORTRAIT_AUDIO: ("image", "audio"),
    InputShape.VIDEO_SCRIPT: ("video", "text"),
    InputShape.SCRIPT: ("text",),
    InputShape.PORTRAIT_SCRIPT: ("image", "text"),
}


class Tier(models.TextChoices):
    PREMIUM = "premium", _("Premium")
    STANDARD = "standard", _("Standard")
    DRAFT = "draft", _("Draft")


@dataclass(frozen=True)
class Route:
    id: str
    label: str
    provider: str  # "local", "runcomfy", "nemovideo", "syncso"
    model_id: str
    shapes: tuple[str, ...]
    tier: str
    credits_per_second: int
    minimum_credits: int
    max_duration_seconds: float = 600.0
    min_duration_seconds: float = 0.0
    max_input_bytes: int | None = None
    mismatch_modes: tuple[str, ...] = ()  # modes the provider does itself
    pick_for: str = ""
    avoid_for: str = ""
    limits: dict = field(default_factory=dict)
    # --- added for the remote adapters and the router ---
    body: str = ""  # the adapter's body builder for this route
    optional_inputs: tuple[str, ...] = ()  # e.g. Wan takes a voice track when there is one
    max_audio_bytes: int | None = None
    min_audio_seconds: float | None = None
    max_audio_seconds: float | None = None
    max_text_chars: int | None = None
    min_side_px: int | None = None  # shortest side of the picture
    max_side_px: int | None = None  # longest side of the picture
    # Can be told which face speaks (SubmitOptions.speaker_box); other routes pick a face
    # themselves, which the form says before any credit is held when several are in frame.
    speaker_choice: bool = False
    # For generated clips (no source video): the output length the user may ask for.
    output_seconds_range: tuple[float, float] | None = None
    defaults: dict = field(default_factory=dict)  # body values used when options.extra lacks them
    # Optional body fields the model's schema has, sent from options.extra or defaults.
    body_options: tuple[str, ...] = ()
    # Routes that generate speech from the script: the languages their voices speak, and the
    # voice (body fields) used for each (see providers.speech).
    speech_languages: tuple[str, ...] = ()
    voices: dict = field(default_factory=dict)
    enabled: bool = True  # admin switch (RouteOverride)
    unconfirmed: str = ""  # what PROVIDERS.md could not confirm, for the admin

    def estimate_credits(self, output_seconds: float) -> int:
        return max(self.minimum_credits, math.ceil(output_seconds) * self.credits_per_second)

    @property
    def name_on_record(self) -> str:
        """The route's name as the ledger and the event log keep it: in English, whatever
        the language of the request that wrote it."""
        with translation.override("en"):
            return str(self.label)

    @property
    def tier_label(self) -> str:
        """The tier in the reader's language."""
        return str(Tier(self.tier).label) if self.tier in Tier.values else self.tier

    @property
    def needs(self) -> tuple[str, ...]:
        """Inputs the route cannot run without (from its first shape)."""
        return SHAPE_INPUTS.get(self.shapes[0], ()) if self.shapes else ()

    @property
    def is_generated(self) -> bool:
        """The output's length is asked for, not taken from a source video or voice."""
        return self.output_seconds_range is not None


_RUNCOMFY_VIDEO = {"max_video_bytes": 100 * MB, "max_image_bytes": 50 * MB}
_ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
_SYNC_DIRECT = {"max_video_bytes": 100 * MB}

ROUTES: tuple[Route, ...] = (
    Route(
        id="local-draft",
        label=_("Local draft"),
        provider="local",
        model_id="local/draft",
        shapes=(InputShape.VIDEO_AUDIO, InputShape.PORTRAIT_AUDIO),
        tier=Tier.DRAFT,
        credits_per_second=1,
        minimum_credits=5,
        max_duration_seconds=300.0,
        mismatch_modes=ALL_MODES,
        speaker_choice=True,
        pick_for=_(
            "Checking timing, framing and who speaks before paying for a premium route; free of network and keys."
        ),
        avoid_for="Delivery: the mouth motion is a signal-processing draft, not a learned model.",
    ),
    Route(
        id="sync-v2-pro",
        label="Sync Labs sync v2 Pro",
        provider="runcomfy",
        model_id="sync/sync/lipsync/v2/pro",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.PREMIUM,
        credits_per_second=8,
        minimum_credits=40,
        max_duration_seconds=300.0,
        max_input_bytes=100 * MB,
        mismatch_modes=ALL_MODES,
        body="sync",
        pick_for=_(
            "Hero-quality dubs, lip-sync on professionally shot video, foreign-language dubbing "
            "where mouth fidelity matters most."
        ),
        avoid_for="Cost-sensitive batch jobs: drop to sync v2.",
        limits=_RUNCOMFY_VIDEO,
        unconfirmed="Full schema not published; sync_mode seen in public code; maximum length assumed 5 min.",
    ),
    Route(
        id="sync-v2",
        label="Sync Labs sync v2",
        provider="runcomfy",
        model_id="sync/sync/lipsync/v2",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.STANDARD,
        credits_per_second=5,
        minimum_credits=25,
        max_duration_seconds=300.0,
        max_input_bytes=100 * MB,
        mismatch_modes=ALL_MODES,
        body="sync",
        pick_for=_("Scaled or batch lip-sync jobs, drafts."),
        avoid_for="Hero delivery: use sync v2 Pro.",
        limits=_RUNCOMFY_VIDEO,
        unconfirmed="Full schema not published; sync_mode seen in public code; maximum length assumed 5 min.",
    ),
    Route(
        id="sync-direct-2-pro",
        label="Sync Labs lipsync-2-pro (direct)",
        provider="syncso",
        model_id="lipsync-2-pro",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.PREMIUM,
        credits_per_second=8,
        minimum_credits=40,
        max_duration_seconds=300.0,
        max_input_bytes=100 * MB,
        # Sync's error guide: audio past 300 s is refused (generation_audio_length_exceeded).
        max_audio_seconds=300.0,
        mismatch_modes=ALL_MODES,
        body="sync_direct",
        defaults={"active_speaker_detection": True},
        pick_for=_(
            "Hero-quality dubs straight from Sync Labs: speaker detection for several faces, "
            "completion by signed webhook."
        ),
        avoid_for="Cost-sensitive batch jobs: use lipsync-2.",
        limits=_SYNC_DIRECT,
        unconfirmed="Output hosts (SYNC_DOWNLOAD_HOSTS) and the largest input size are assumptions.",
    ),
    Route(
        id="sync-direct-2",
        label="Sync Labs lipsync-2 (direct)",
        provider="syncso",
        model_id="lipsync-2",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.STANDARD,
        credits_per_second=5,
        minimum_credits=25,
        max_duration_seconds=300.0,
        max_input_bytes=100 * MB,
        # Sync's error guide: audio past 300 s is refused (generation_audio_length_exceeded).
        max_audio_seconds=300.0,
        mismatch_modes=ALL_MODES,
        body="sync_direct",
        defaults={"active_speaker_detection": True},
        pick_for=_("Scaled or batch lip-sync straight from Sync Labs."),
        avoid_for="Hero delivery: use lipsync-2-pro.",
        limits=_SYNC_DIRECT,
        unconfirmed="Output hosts (SYNC_DOWNLOAD_HOSTS) and the largest input size are assumptions.",
    ),
    Route(
        id="kling-lipsync-audio",
        label="Kling lip-sync (audio)",
        provider="runcomfy",
        model_id="kling/kling/lipsync/audio-to-video",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.STANDARD,
        credits_per_second=1,
        minimum_credits=5,
        max_duration_seconds=10.0,
        min_duration_seconds=2.0,
        max_input_bytes=100 * MB,
        max_audio_bytes=5 * MB,
        min_side_px=720,
        max_side_px=1920,
        body="video_audio",
        pick_for=_("Kling-pipeline integration; an alternative to Sync Labs for short clips."),
        avoid_for="Top-tier mouth fidelity: Sync Labs Pro is the benchmark.",
        limits=_RUNCOMFY_VIDEO,
        unconfirmed="RunComfy's page writes kling/kling/lipsync/..., the seed kling/lipsync/...",
    ),
    Route(
        id="kling-lipsync-text",
        label="Kling lip-sync (script)",
        provider="runcomfy",
        model_id="kling/kling/lipsync/text-to-video",
        shapes=(InputShape.VIDEO_SCRIPT,),
        tier=Tier.STANDARD,
        credits_per_second=1,
        minimum_credits=5,
        max_duration_seconds=10.0,
        min_duration_seconds=2.0,
        max_input_bytes=100 * MB,
        max_text_chars=120,
        min_side_px=720,
        max_side_px=1920,
        body="kling_text",
        defaults={"voice_id": "oversea_male1", "voice_language": "en"},
        speech_languages=("en", "zh"),
        voices={
            "en": {"voice_id": "oversea_male1", "voice_language": "en"},
            "zh": {"voice_id": "ai_chenjiahao_712", "voice_language": "zh"},
        },
        pick_for=_("A written script and a source video: speech is generated in the same pass, no audio file needed."),
        avoid_for="Precise lip-sync to a specific recording: the voice is regenerated on every call.",
        limits={**_RUNCOMFY_VIDEO, "voice_languages": ("en", "zh")},
        unconfirmed="Voice ids are Kling's; the default voices (English and Mandarin) are assumptions.",
    ),
    Route(
        id="creatify-lipsync",
        label="Creatify lip-sync",
        provider="runcomfy",
        model_id="creatify/lipsync",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.STANDARD,
        credits_per_second=5,
        minimum_credits=25,
        max_duration_seconds=300.0,
        max_input_bytes=100 * MB,
        mismatch_modes=("loop",),
        body="creatify",
        pick_for=_("Creatify-ecosystem workflows."),
        avoid_for="Comparison shopping, unless cost or latency favours it.",
        limits=_RUNCOMFY_VIDEO,
        unconfirmed="Model id from the seed, not confirmed on RunComfy; `loop` seen on another host.",
    ),
    Route(
        id="omnihuman",
        label="OmniHuman (portrait)",
        provider="runcomfy",
        model_id="bytedance/omnihuman/api",
        shapes=(InputShape.PORTRAIT_AUDIO,),
        tier=Tier.PREMIUM,
        credits_per_second=16,
        minimum_credits=50,
        max_duration_seconds=60.0,
        max_input_bytes=50 * MB,
        body="omnihuman",
        pick_for=_("UGC voiceover, a virtual presenter, a dubbed product demo from a single portrait."),
        avoid_for="Lip-sync onto an existing video (keep the original motion): use Sync Labs v2.",
        limits={"max_image_bytes": 50 * MB},
        unconfirmed="Maximum voice length assumed 60 s.",
    ),
    Route(
        id="wan-2-7-audio",
        label="Wan 2.7 text-to-video with voice",
        provider="runcomfy",
        model_id="wan-ai/wan-2-7/text-to-video",
        shapes=(InputShape.SCRIPT,),
        tier=Tier.STANDARD,
        credits_per_second=10,
        minimum_credits=30,
        max_duration_seconds=15.0,
        min_duration_seconds=2.0,
        optional_inputs=("audio",),
        max_audio_bytes=15 * MB,
        min_audio_seconds=3.0,
        max_audio_seconds=30.0,
        max_text_chars=5000,
        output_seconds_range=(2.0, 15.0),
        body="wan_t2v",
        defaults={"aspect_ratio": "16:9", "resolution": "720p", "duration": 5},
        body_options=("aspect_ratio", "resolution", "duration", "negative_prompt", "seed"),
        # Without a recording Wan speaks the quoted line itself, in English or Mandarin.
        speech_languages=("en", "zh"),
        pick_for=_("Full scene control (not just a portrait) with a specific voiceover; open-weights pipeline."),
        avoid_for='The simplest "portrait talks": use OmniHuman.',
        limits={"aspect_ratios": _ASPECT_RATIOS, "resolutions": ("720p", "1080p")},
        unconfirmed=(
            "Audio longer than the video is cut. Mandarin speech from a Chinese prompt assumed (Wan is bilingual)."
        ),
    ),
    Route(
        id="happyhorse-t2v",
        label="HappyHorse 1.0 text-to-video",
        provider="runcomfy",
        model_id="happyhorse/happyhorse-1-0/text-to-video",
        shapes=(InputShape.SCRIPT,),
        tier=Tier.PREMIUM,
        credits_per_second=10,
        minimum_credits=30,
        max_duration_seconds=15.0,
        min_duration_seconds=3.0,
        max_text_chars=2500,
        output_seconds_range=(3.0, 15.0),
        body="happyhorse",
        # The schema's default is 1080P; 720P keeps the price and the wait down.
        defaults={"aspect_ratio": "16:9", "resolution": "720P", "duration": 5},
        body_options=("aspect_ratio", "resolution", "duration", "seed"),
        # Chinese speech is not documented for HappyHorse: English scripts only until confirmed.
        speech_languages=("en",),
        pick_for=_("A written script with speech generated in the same pass; social and UGC clips."),
        avoid_for="Locking the mouth to a pre-recorded voiceover.",
        limits={"aspect_ratios": _ASPECT_RATIOS, "resolutions": ("720P", "1080P")},
        unconfirmed="Availability and id spelling vary between snapshots (1-0 vs 1.0); price assumed.",
    ),
    Route(
        id="happyhorse-i2v",
        label="HappyHorse 1.0 image-to-video",
        provider="runcomfy",
        model_id="happyhorse/happyhorse-1-0/image-to-video",
        shapes=(InputShape.PORTRAIT_SCRIPT,),
        tier=Tier.PREMIUM,
        credits_per_second=10,
        minimum_credits=30,
        max_duration_seconds=15.0,
        min_duration_seconds=3.0,
        max_input_bytes=10 * MB,
        max_text_chars=5000,
        min_side_px=300,
        output_seconds_range=(3.0, 15.0),
        body="happyhorse",
        # No aspect_ratio: the output takes the portrait's aspect (the schema has no such field).
        defaults={"resolution": "720P", "duration": 5},
        body_options=("resolution", "duration", "seed"),
        # Chinese speech is not documented for HappyHorse: English scripts only until confirmed.
        speech_languages=("en",),
        pick_for=_("A portrait that speaks a written script, speech generated in the same pass."),
        avoid_for="Locking the mouth to a pre-recorded voiceover.",
        limits={"resolutions": ("720P", "1080P"), "max_image_bytes": 10 * MB, "aspect_range": (1 / 2.5, 2.5)},
        unconfirmed="Availability and id spelling vary between snapshots (1-0 vs 1.0); price assumed.",
    ),
    Route(
        id="nemovideo-lipsync",
        label="NemoVideo lip-sync agent",
        provider="nemovideo",
        model_id="nemo_agent",
        shapes=(InputShape.VIDEO_AUDIO,),
        tier=Tier.STANDARD,
        credits_per_second=3,
        minimum_credits=15,
        max_duration_seconds=300.0,
        max_input_bytes=500 * MB,
        mismatch_modes=("cut_off", "silence", "remap"),
        body="nemo_edit",
        defaults={"language": "en"},
        pick_for=_("A second opinion on mouth swap through an editing agent; starter credits for trials."),
        avoid_for="Hero delivery or strict turnaround: the agent's edits are slower and less predictable.",
        limits={
            "formats": ("mp4", "mov", "avi", "webm", "mkv", "jpg", "png", "gif", "webp", "mp3", "wav", "m4a", "aac")
        },
        unconfirmed="The whole API is unverified (seed 002 only); price and limits assumed.",
    ),
)

_BY_ID = {route.id: route for route in ROUTES}


def catalog_route(route_id: str) -> Route:
    """The route as shipped, without admin overrides."""
    try:
        return _BY_ID[route_id]
    except KeyError:
        raise LookupError(f"unknown route {route_id!r}") from None
