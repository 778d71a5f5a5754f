from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """The site's user. Custom from the first migration so fields can be added later."""

    # The language the user chose with the switch; empty until they choose (the browser's
    # Accept-Language decides meanwhile). Pages and the e-mails sent to them use it.
    language = models.CharField(_("language"), max_length=16, blank=True, default="", choices=settings.LANGUAGES)

    class Meta:
        db_table = "accounts_user"

    @property
    def preferred_language(self) -> str:
        """The language to write to this user in (an e-mail sent by someone else, say)."""
        return self.language or settings.LANGUAGE_CODE
