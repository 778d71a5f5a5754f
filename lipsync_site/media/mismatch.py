"""The duration-mismatch modes: what happens when the voice and the video differ in length.

One vocabulary for the whole site (the words lip-sync users know, see PROVIDERS.md): the
catalog says which modes a route does itself, the form offers them, ``media.render`` and
``media.prepare`` carry them out where a route cannot.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MismatchMode(models.TextChoices):
    CUT_OFF = "cut_off", _("Cut off: end when the shorter of the two ends")
    LOOP = "loop", _("Loop: restart the video until the voice ends")
    BOUNCE = "bounce", _("Bounce: play the video forward then back")
    SILENCE = "silence", _("Silence: keep the longer one, pad the voice with silence or hold the picture")
    REMAP = "remap", _("Remap: slow down or speed up the video to the voice's length")


ALL_MODES: tuple[str, ...] = tuple(MismatchMode.values)
