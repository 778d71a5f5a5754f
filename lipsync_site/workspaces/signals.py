"""Sign-up hands over to workspaces: an invited person joins the workspace they were
invited to; with open sign-up on, anyone else gets a personal workspace of their own."""

from __future__ import annotations

import logging

from allauth.account.signals import user_signed_up
from django.conf import settings
from django.dispatch import receiver

from lipsync_site.accounts.signup import clear_signup_invitation, signup_invitation
from lipsync_site.workspaces import access, services
from lipsync_site.workspaces.models import Invitation

logger = logging.getLogger(__name__)


@receiver(user_signed_up, dispatch_uid="workspaces.join_on_signup")
def join_on_signup(sender, request, user, **kwargs):
    invitation_id = signup_invitation(request) if request is not None else None
    if invitation_id:
        invitation = Invitation.objects.filter(pk=invitation_id).first()
        clear_signup_invitation(request)
        if invitation is not None:
            try:
                membership = services.accept_invitation(invitation=invitation, user=user)
            except services.InvitationInvalid as exc:
                logger.info("Sign-up with invitation %s not joined: %s", invitation_id, exc)
            else:
                request.session[access.SESSION_KEY] = membership.workspace_id
                return
    if settings.ACCOUNT_OPEN_SIGNUP and not user.memberships.exists():
        workspace = services.create_workspace(name=services.personal_workspace_name(user), owner=user, personal=True)
        if request is not None:
            request.session[access.SESSION_KEY] = workspace.pk
