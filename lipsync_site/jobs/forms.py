"""The new-job form: media for the chosen input shape, the route, and the consent.

Files are checked in steps: each upload is stored (probed, analysed) as soon as the
form is checked, and comes back as a hidden asset id, so later steps never upload it
again. The form asks only for what the chosen shape needs.
"""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from lipsync_site.consent import texts
from lipsync_site.jobs.models import Verdict
from lipsync_site.jobs.quote import OPTIONAL_AUDIO_SHAPES, shape_inputs
from lipsync_site.jobs.services import Consent, JobInputs
from lipsync_site.media.mismatch import MismatchMode
from lipsync_site.providers.catalog import ROUTES, InputShape
from lipsync_site.providers.routes import available_routes
from lipsync_site.providers.speech import script_language

MEDIA_ACCEPT = {
    "video": ".mp4,.mov,.avi,.webm,.mkv,video/*",
    "audio": ".mp3,.wav,.m4a,.aac,audio/*",
    "image": ".jpg,.jpeg,.png,.gif,.webp,image/*",
    "evidence": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
}
MAX_VOICES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (the batch's voices)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class AssetIdsField(forms.Field):
    """Hidden ids of assets stored by an earlier step (ownership is checked by the view)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(item) for item in values if item][:MAX_VOICES]


def shape_choices():
    return [(shape.value, shape.label) for shape in InputShape]


# What each kind of job involves, for the consent wording (consent.texts.wording): the
# picture is a real person's video or portrait, or generated; the voice a recording the user
# uploads, generated from the script, or optional (a generated clip may follow a recording).
CONSENT_SUBJECTS = {
    InputShape.VIDEO_AUDIO: ("video", "recording"),
    InputShape.PORTRAIT_AUDIO: ("portrait", "recording"),
    InputShape.VIDEO_SCRIPT: ("video", "generated"),
    InputShape.PORTRAIT_SCRIPT: ("portrait", "generated"),
    InputShape.SCRIPT: ("generated", "optional"),
}

CONSENT_ANSWERS = ["person_name", "likeness_consent", "voice_provenance", "speaker_name", "public_figure", "no_misuse"]


class NewJobForm(forms.Form):
    shape = forms.ChoiceField(
        choices=shape_choices, initial=InputShape.VIDEO_AUDIO, widget=forms.RadioSelect, label=_("What do you have?")
    )
    source_video = forms.FileField(
        required=False,
        label=_("Source video"),
        help_text=_("MP4, MOV, AVI, WebM or MKV, with the face clearly visible."),
        widget=forms.ClearableFileInput(attrs={"accept": MEDIA_ACCEPT["video"], "class": "intake-file"}),
    )
    portrait = forms.FileField(
        required=False,
        label=_("Portrait"),
        help_text=_("JPG, PNG, GIF or WebP; head and shoulders, at least 512x512."),
        widget=forms.ClearableFileInput(attrs={"accept": MEDIA_ACCEPT["image"], "class": "intake-file"}),
    )
    voice_audio = MultipleFileField(
        required=False,
        label=_("Voice audio"),
        help_text=_(
            "MP3, WAV, M4A or AAC; a clean voice without music works best. Choose several files to make one job "
            "per voice (one language each)."
        ),
        widget=MultipleFileInput(attrs={"accept": MEDIA_ACCEPT["audio"], "class": "intake-file"}),
    )
    script = forms.CharField(
        required=False,
        label=_("Script or prompt"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('What is said (and, for generated clips, the scene). Quote the line: says clearly: "…"'),
    )
    duration = forms.FloatField(
        required=False, min_value=1, max_value=60, initial=5, label=_("Clip length (seconds, generated clips)")
    )
    video_asset = AssetIdsField(required=False)
    portrait_asset = AssetIdsField(required=False)
    voice_assets = AssetIdsField(required=False)
    evidence_asset = AssetIdsField(required=False)

    route = forms.ChoiceField(label=_("Route"), required=False)
    mismatch_mode = forms.ChoiceField(
        required=False,
        choices=MismatchMode.choices,
        initial=MismatchMode.LOOP,
        widget=forms.RadioSelect,
        label=_("If the voice and the video differ in length"),
    )
    # The face who speaks, by the number the poster shows (media.selectors.speaker_faces):
    # asked only when preflight found two or more faces. Empty lets the route pick.
    speaker = forms.IntegerField(required=False, min_value=1, label=_("Who speaks"))
    confirm_no_face = forms.BooleanField(
        required=False,
        label=_("No face was found, and that is expected: it is a stylized character. Go ahead anyway."),
    )

    person_name = forms.CharField(max_length=200, label=_("Name of the person shown"))
    likeness_consent = forms.BooleanField(
        label=texts.wording().likeness,
        error_messages={"required": _("You must confirm that the person shown agreed to this use of their likeness.")},
    )
    voice_provenance = forms.ChoiceField(
        choices=texts.VOICE_CHOICES[texts.CURRENT_VERSION],
        widget=forms.RadioSelect,
        label=texts.wording().voice_question,
        error_messages={"required": _("Tell us whose voice this is and what gives you the right to use it.")},
    )
    speaker_name = forms.CharField(max_length=200, required=False, label=_("Name of the speaker"))
    public_figure = forms.TypedChoiceField(
        choices=[("no", _("No")), ("yes", _("Yes"))],
        coerce=lambda value: value == "yes",
        empty_value=False,
        required=False,
        initial="no",
        widget=forms.RadioSelect,
        label=texts.wording().public_figure,
    )
    evidence = forms.FileField(
        required=False,
        label=texts.wording().evidence,
        widget=forms.ClearableFileInput(attrs={"accept": MEDIA_ACCEPT["evidence"]}),
    )
    no_misuse = forms.BooleanField(
        label=texts.wording().no_misuse,
        error_messages={
            "required": _("Confirm that the result will not be used to deceive, defame or as sexual material.")
        },
    )

    def __init__(self, *args, voice_count: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        shape = self.data.get("shape") or self.initial.get("shape") or InputShape.VIDEO_AUDIO
        if shape not in InputShape.values:
            shape = InputShape.VIDEO_AUDIO
        self.shape = shape
        self.picture, self.voice = CONSENT_SUBJECTS.get(shape, ("video", "recording"))
        self.wording = texts.wording(self.picture, self.voice, language=translation.get_language())
        self._word_consent()
        self.routes = available_routes(shape)
        self.fields["route"].choices = [(route.id, route.label) for route in self.routes]
        if self.routes:
            self.fields["route"].initial = self.routes[0].id
        # One speaker name and one provenance per voice of a batch (each gets its own
        # attestation); the main answers are their defaults.
        self.voice_count = voice_count
        for index in range(1, voice_count + 1):
            self.fields[f"speaker_name_{index}"] = forms.CharField(
                max_length=200, required=False, label=_("Speaker of voice %(number)d") % {"number": index}
            )
            self.fields[f"voice_provenance_{index}"] = forms.ChoiceField(
                choices=[("", _("Same as above")), *self.wording.voice_choices],
                required=False,
                label=_("Voice %(number)d: whose voice, and by what right") % {"number": index},
            )
        # What the user types or ticks in the consent answers survives every preflight swap
        # of the form, even one that was in flight while they typed (htmx keeps elements
        # marked hx-preserve, matched by id). Errors render beside them, outside.
        for name in CONSENT_ANSWERS + [f"speaker_name_{index}" for index in range(1, voice_count + 1)]:
            self.fields[name].widget.attrs["hx-preserve"] = "true"
        # So does the script being typed (a check only sends it on change, and may come back
        # while the user is still typing).
        self.fields["script"].widget.attrs["hx-preserve"] = "true"

    def _word_consent(self) -> None:
        """Ask about what this kind of job really involves (a script-only clip shows no one's
        footage; a generated voice is no one's recording)."""
        said = self.wording
        self.fields["likeness_consent"].label = said.likeness
        self.fields["person_name"].label = said.person_label
        self.fields["public_figure"].label = said.public_figure
        self.fields["no_misuse"].label = said.no_misuse
        self.fields["evidence"].label = said.evidence
        self.fields["voice_provenance"].choices = said.voice_choices
        if said.asks_voice:
            self.fields["voice_provenance"].label = said.voice_question
        # A generated voice is no one's recording: nothing to answer. A script-only clip asks
        # only when the user adds a recording (left blank, the voice is the provider's).
        self.fields["voice_provenance"].required = self.voice == "recording"
        if self.picture == "generated":
            self.fields["likeness_consent"].error_messages["required"] = _(
                "Confirm that the clip depicts no real person, or that the person agreed."
            )

    @property
    def asks_voice(self) -> bool:
        return self.wording.asks_voice

    @property
    def needs(self) -> tuple[str, ...]:
        needs = shape_inputs(self.shape)
        if self.shape in OPTIONAL_AUDIO_SHAPES and "audio" not in needs:
            needs = (*needs, "audio?")
        return needs

    @property
    def wants_video(self) -> bool:
        return "video" in self.needs

    @property
    def wants_portrait(self) -> bool:
        return "image" in self.needs

    @property
    def wants_voice(self) -> bool:
        return "audio" in self.needs or "audio?" in self.needs

    @property
    def voice_optional(self) -> bool:
        return "audio?" in self.needs

    @property
    def wants_script(self) -> bool:
        return "text" in self.needs

    def voice_fields(self):
        return [
            (self[f"speaker_name_{index}"], self[f"voice_provenance_{index}"])
            for index in range(1, self.voice_count + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        if self.wants_script and not (cleaned.get("script") or "").strip():
            self.add_error("script", _("Write the script (or the prompt) for this kind of job."))
        if cleaned.get("public_figure") and not (cleaned.get("evidence") or self.data.get("evidence_asset")):
            self.add_error("evidence", _("A public figure needs their signed release attached (PDF, JPG or PNG)."))
        return cleaned

    def per_voice_consent(self, index: int) -> tuple[str, str]:
        """(speaker name, provenance) for voice ``index`` (1-based) of a batch."""
        data = self.cleaned_data
        speaker = data.get(f"speaker_name_{index}") or data.get("speaker_name") or ""
        provenance = data.get(f"voice_provenance_{index}") or data.get("voice_provenance")
        return speaker, provenance

    def consents(self, voice_count: int, *, evidence, ip_address: str | None, user_agent: str) -> list[Consent]:
        """One consent per voice (a batch names each voice's speaker and rights)."""
        data = self.cleaned_data
        consents = []
        for index in range(1, max(1, voice_count) + 1):
            speaker, provenance = (
                self.per_voice_consent(index)
                if voice_count > 1
                else (data.get("speaker_name") or "", data.get("voice_provenance"))
            )
            if not self.asks_voice:
                speaker, provenance = "", "synthetic"  # no recording: the provider's generated voice
            elif not provenance:
                provenance = "synthetic"  # a script-only clip without a recording
            consents.append(
                Consent(
                    likeness_consent=data["likeness_consent"],
                    voice_provenance=provenance,
                    person_name=data["person_name"],
                    speaker_name=speaker,
                    public_figure=bool(data.get("public_figure")),
                    no_misuse=data["no_misuse"],
                    evidence=evidence,
                    ip_address=ip_address,
                    user_agent=user_agent,
                    picture=self.picture,
                    voice=self.voice,
                    language=self.wording.language,
                )
            )
        return consents

    def job_inputs(self, *, route_id: str, video, portrait) -> JobInputs:
        data = self.cleaned_data
        script = (data.get("script") or "").strip()
        return JobInputs(
            shape=self.shape,
            route_id=route_id,
            source_video=video,
            portrait=portrait,
            script=script if self.wants_script else "",
            prompt=script if self.shape == InputShape.SCRIPT else "",
            mismatch_mode=data.get("mismatch_mode") or MismatchMode.CUT_OFF,
            options={
                **({"duration": data["duration"]} if data.get("duration") else {}),
                **({"speaker": data["speaker"]} if data.get("speaker") else {}),
                # The script's language: speaking routes choose a voice that speaks it.
                **({"speech_language": script_language(script)} if self.wants_script and script else {}),
            },
        )


class HistoryFilterForm(forms.Form):
    """History's filters, read from the URL (so a filtered view can be shared and the back
    button works). Anything invalid is ignored rather than refused."""

    q = forms.CharField(required=False, max_length=200, label=_("Search"))
    state = forms.ChoiceField(
        required=False,
        label=_("State"),
        choices=[
            ("", _("Any state")),
            ("in_progress", _("In progress")),
            ("succeeded", _("Succeeded")),
            ("failed", _("Failed")),
            ("cancelled", _("Cancelled")),
            ("rejected", _("Consent rejected or withdrawn")),
        ],
    )
    route = forms.ChoiceField(required=False, label=_("Route"))
    shape = forms.ChoiceField(required=False, label=_("Kind"), choices=[("", _("Any kind")), *shape_choices()])
    verdict = forms.ChoiceField(
        required=False,
        label=_("Review"),
        choices=[("", _("Any review")), ("none", _("Not reviewed yet")), *Verdict.choices],
    )
    since = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].choices = [("", _("Any route")), *((route.id, route.label) for route in ROUTES)]

    def query(self):
        from lipsync_site.jobs.selectors import HistoryQuery

        self.is_valid()
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}
        return HistoryQuery(
            q=(data.get("q") or "").strip(),
            state=data.get("state") or "",
            route=data.get("route") or "",
            shape=data.get("shape") or "",
            verdict=data.get("verdict") or "",
            since=data.get("since"),
            until=data.get("until"),
        )

    def params(self) -> str:
        """The filters as a query string, for the paging links."""
        from urllib.parse import urlencode

        kept = [(name, self.data.get(name)) for name in self.fields if self.data.get(name)]
        return urlencode(kept)


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect, label=_("Your review"))
    comment = forms.CharField(
        required=False,
        max_length=2000,
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What works, what to change (optional)")}),
    )

    @property
    def verdict_label(self) -> str:
        return str(dict(Verdict.choices).get(self.cleaned_data.get("verdict"), ""))
