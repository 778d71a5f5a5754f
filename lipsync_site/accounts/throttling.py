"""What django-axes counts failed sign-ins against.

allauth authenticates with ``username=`` or ``email=`` depending on what was typed, the
admin and Django's own form with ``username=``. An e-mail address that belongs to an
account counts against that account's username, so alternating between the two does not
double the attempts an attacker gets.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model


def attempted_login(request, credentials: dict | None) -> str | None:
    typed = None
    for key in ("username", "email", "login"):
        if (credentials or {}).get(key):
            typed = str(credentials[key])
            break
    if typed is None:
        data = getattr(request, "POST", None) or {}
        typed = data.get("login") or data.get("username")
    if not typed:
        return None
    typed = typed.strip().lower()
    if "@" in typed:
        username = get_user_model().objects.filter(email__iexact=typed).values_list("username", flat=True).first()
        if username:
            return username.lower()
    return typed
