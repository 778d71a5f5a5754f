"""Sign-up by invitation: the session carries the invitation a visitor opened.

While it does, sign-up is open for that visitor, for the invited address only, and the
address counts as verified (the link reached its mailbox). The workspaces app puts the
invitation here and takes it back when the account is made; accounts knows only its id.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter

SESSION_INVITATION = "signup_invitation"
SESSION_EMAIL = "signup_invited_email"


def allow_signup_by_invitation(request, *, invitation_id: str, email: str) -> None:
    request.session[SESSION_INVITATION] = str(invitation_id)
    request.session[SESSION_EMAIL] = email
    get_adapter(request).stash_verified_email(request, email)


def signup_invitation(request) -> str | None:
    return request.session.get(SESSION_INVITATION)


def invited_email(request) -> str | None:
    return request.session.get(SESSION_EMAIL)


def clear_signup_invitation(request) -> None:
    request.session.pop(SESSION_INVITATION, None)
    request.session.pop(SESSION_EMAIL, None)
