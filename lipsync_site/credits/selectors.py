from django.db.models import Sum

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry


def balance_summary(user) -> dict:
    account = CreditAccount.objects.filter(user=user).first()
    if account is None:
        return {"available": 0, "held": 0}
    held = Hold.objects.filter(account=account, status=Hold.Status.OPEN).aggregate(total=Sum("amount"))["total"] or 0
    return {"available": account.balance, "held": held}


def entries_for(user):
    return LedgerEntry.objects.filter(account__user=user).select_related("hold")


def open_holds_for(user):
    return Hold.objects.filter(account__user=user, status=Hold.Status.OPEN).order_by("-created_at")
