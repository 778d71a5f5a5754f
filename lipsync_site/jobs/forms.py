from django import forms

from lipsync_site.consent import texts
from lipsync_site.consent.models import VoiceProvenance
from lipsync_site.providers.catalog import InputShape, routes_for_shape

MISMATCH_MODES = [
    ("cut_off", "Cut off: end when the shorter of the two ends"),
    ("loop", "Loop: restart the video until the voice ends"),
    ("bounce", "Bounce: play the video forward then back"),
    ("silence", "Silence: keep the longer one, pad or hold"),
]

MEDIA_ACCEPT = {
    "video": ".mp4,.mov,.avi,.webm,.mkv,video/*",
    "audio": ".mp3,.wav,.m4a,.aac,audio/*",
    "image": ".jpg,.jpeg,.png,.gif,.webp,image/*",
}


class NewJobForm(forms.Form):
    shape = forms.ChoiceField(
        choices=[
            (InputShape.VIDEO_AUDIO.value, InputShape.VIDEO_AUDIO.label),
            (InputShape.PORTRAIT_AUDIO.value, InputShape.PORTRAIT_AUDIO.label),
        ],
        initial=InputShape.VIDEO_AUDIO,
        widget=forms.RadioSelect,
        label="What do you have?",
    )
    source_video = forms.FileField(
        required=False,
        label="Source video",
        help_text="MP4, MOV, AVI, WebM or MKV, with the face clearly visible.",
        widget=forms.ClearableFileInput(attrs={"accept": MEDIA_ACCEPT["video"]}),
    )
    portrait = forms.FileField(
        required=False,
        label="Portrait",
        help_text="JPG, PNG, GIF or WebP; head and shoulders, at least 512x512.",
        widget=forms.ClearableFileInput(attrs={"accept": MEDIA_ACCEPT["image"]}),
    )
    voice_audio = forms.FileField(
        label="Voice audio",
        help_text="MP3, WAV, M4A or AAC; a clean voice without music works best.",
        widget=forms.ClearableFileInput(attrs={"accept": MEDIA_ACCEPT["audio"]}),
    )
    route = forms.ChoiceField(label="Route")
    mismatch_mode = forms.ChoiceField(
        choices=MISMATCH_MODES, initial="loop", label="If the voice and the video differ in length"
    )
    person_name = forms.CharField(max_length=200, label="Name of the person shown")
    likeness_consent = forms.BooleanField(
        label=texts.LIKENESS_STATEMENT[texts.CURRENT_VERSION],
        error_messages={"required": "You must confirm that the person shown agreed to this use of their likeness."},
    )
    voice_provenance = forms.ChoiceField(
        choices=VoiceProvenance.choices,
        widget=forms.RadioSelect,
        label=texts.VOICE_QUESTION[texts.CURRENT_VERSION],
        error_messages={"required": "Tell us whose voice this is and what gives you the right to use it."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shape = self.data.get("shape") or InputShape.VIDEO_AUDIO
        routes = routes_for_shape(shape)
        self.fields["route"].choices = [(route.id, f"{route.label} ({route.tier})") for route in routes]
        if routes:
            self.fields["route"].initial = routes[0].id

    def clean(self):
        cleaned = super().clean()
        shape = cleaned.get("shape")
        if shape == InputShape.VIDEO_AUDIO and not cleaned.get("source_video"):
            self.add_error("source_video", "Choose the source video whose mouth should follow the voice.")
        if shape == InputShape.PORTRAIT_AUDIO and not cleaned.get("portrait"):
            self.add_error("portrait", "Choose the portrait that should speak.")
        return cleaned
