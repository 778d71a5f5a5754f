from django.conf import settings


def account(request):
    """What the base layout shows in the header."""
    context = {"site_name": "lipsync", "simulated_providers": not settings.RUNCOMFY_API_KEY}
    user = getattr(request, "user", None)
    if getattr(request, "htmx", False):
        return context  # fragments never render the header: no queries for it on every poll
    if user is not None and user.is_authenticated:
        from lipsync_site.credits.models import CreditAccount

        context["header_balance"] = (
            CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0
        )
        context["is_moderator"] = user.has_perm("consent.moderate_attestation")
    return context
