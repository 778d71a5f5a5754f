"""The user's credits page: balance, holds and history; the admin's grant with a reason."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from lipsync_site.credits.models import CreditAccount, LedgerEntry
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def test_page_shows_balance_holds_and_history(owner_client, make_job):
    job = make_job()
    html = owner_client.get(reverse("credits:page")).content.decode()
    assert 'id="credits-available">975<' in html
    assert 'id="credits-held">25<' in html
    assert str(job.id)[:8] in html
    assert "test allowance" in html and "-25" in html


def test_signed_out_visitor_is_sent_to_login(client):
    response = client.get(reverse("credits:page"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("admin", password="pw-admin-admin")
    client.force_login(admin)
    return client, admin


def grant(client, account, **data):
    return client.post(
        reverse("admin:credits_creditaccount_changelist"),
        {"action": "grant_credits", "_selected_action": [account.pk], "apply": "1", **data},
        follow=True,
    )


def test_admin_grants_credits_with_a_reason(admin_client, owner):
    client, admin = admin_client
    account = CreditAccount.objects.get(workspace=workspace_of(owner))
    response = grant(client, account, amount="250", reason="Goodwill after an outage")
    assert response.status_code == 200
    entry = LedgerEntry.objects.filter(account=account).first()
    assert (entry.kind, entry.amount, entry.actor, entry.reason) == ("grant", 250, admin, "Goodwill after an outage")
    account.refresh_from_db()
    assert account.balance == 1250


def test_admin_grant_needs_a_reason(admin_client, owner):
    client, _ = admin_client
    account = CreditAccount.objects.get(workspace=workspace_of(owner))
    response = grant(client, account, amount="250", reason="  ")
    assert "This field is required" in response.content.decode()
    account.refresh_from_db()
    assert account.balance == 1000


def test_admin_correction_cannot_take_the_balance_below_zero(admin_client, owner):
    client, _ = admin_client
    account = CreditAccount.objects.get(workspace=workspace_of(owner))
    grant(client, account, amount="-300", reason="Refunded by card")
    grant(client, account, amount="-5000", reason="Too much")
    account.refresh_from_db()
    assert account.balance == 700
    assert LedgerEntry.objects.filter(account=account, kind="adjustment").count() == 1


def test_a_new_workspace_can_be_granted_credits_at_once(admin_client, outsider):
    from lipsync_site.workspaces.services import create_workspace

    client, _ = admin_client
    workspace = create_workspace(name="Fresh team", owner=outsider)
    account = CreditAccount.objects.get(workspace=workspace)  # opened with the workspace
    grant(client, account, amount="500", reason="Welcome")
    account.refresh_from_db()
    assert account.balance == 500
