from django.conf import settings


def account(request):
    """What the base layout shows in the header (the balance comes from credits)."""
    context = {
        "site_name": "lipsync",
        "simulated_providers": not settings.RUNCOMFY_API_KEY,
        "open_signup": settings.ACCOUNT_OPEN_SIGNUP,
    }
    user = getattr(request, "user", None)
    if getattr(request, "htmx", False):
        return context  # fragments never render the header: no queries for it on every poll
    if user is not None and user.is_authenticated:
        context["is_moderator"] = user.has_perm("consent.moderate_attestation")
    return context
