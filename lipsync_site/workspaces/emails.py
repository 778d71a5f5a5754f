"""The invitation e-mail. The link is the only copy of the token: it is never logged."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from lipsync_site.workspaces.models import Invitation

logger = logging.getLogger(__name__)


def invitation_url(invitation: Invitation) -> str:
    from lipsync_site.workspaces.services import invitation_token

    return settings.PUBLIC_BASE_URL + reverse("workspaces:join", kwargs={"token": invitation_token(invitation)})


def send_invitation(invitation_id) -> bool:
    invitation = Invitation.objects.select_related("workspace", "invited_by").get(pk=invitation_id)
    context = {"invitation": invitation, "url": invitation_url(invitation), "site_name": "lipsync"}
    with translation.override(invitation_language(invitation)):
        subject = render_to_string("workspaces/email/invitation_subject.txt", context).strip()
        body = render_to_string("workspaces/email/invitation_message.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except OSError:
        logger.exception("Could not send invitation %s", invitation.pk)
        return False
    return True


def invitation_language(invitation: Invitation) -> str:
    """The invitee's language: their own choice when the address already has an account,
    else the inviter's (a team usually shares one)."""
    invitee = (
        get_user_model().objects.filter(email__iexact=invitation.email).exclude(language="").only("language").first()
    )
    if invitee is not None:
        return invitee.language
    return invitation.invited_by.preferred_language if invitation.invited_by_id else settings.LANGUAGE_CODE
