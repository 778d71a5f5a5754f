"""Declarations of who a view is for, read by the URL-walking role matrix test
(tests/workspaces/test_role_matrix.py). Every view of ours carries one of these or
``workspaces.access.workspace_required``; a view that says nothing fails the test.

Lives beside settings (no app) so apps on every floor, media and accounts included, can
declare their views.
"""

from __future__ import annotations


def public_view(reason: str):
    """Deliberately open to anyone: the token in the URL or the page itself is the permission."""

    def decorator(view):
        view.workspace_public = reason
        return view

    return decorator


def signed_in_view(reason: str):
    """Needs a signed-in user but no workspace role (their own profile, their workspaces).
    The view must check sign-in itself (``login_required``)."""

    def decorator(view):
        view.workspace_personal = reason
        return view

    return decorator
