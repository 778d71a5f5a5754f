from lipsync_site.credits.models import CreditAccount


def balance(request):
    """The balance the header shows (full pages only: fragments never render the header)."""
    user = getattr(request, "user", None)
    if getattr(request, "htmx", False) or user is None or not user.is_authenticated:
        return {}
    return {"header_balance": CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0}
