"""One balance per workspace: holds name the member, a monthly cap per member, who spent what."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.credits.selectors import spending_by_member
from lipsync_site.credits.services import (
    InsufficientCredits,
    NotAMember,
    SpendingCapReached,
    capture_hold,
    place_hold,
    release_hold,
)
from lipsync_site.workspaces.services import remove_member
from tests.conftest import switch_client_to

pytestmark = pytest.mark.django_db


def hold(team, role, amount, reference):
    return place_hold(workspace=team.workspace, member=team.user(role), amount=amount, reference=reference, reason="t")


def test_every_member_spends_the_one_workspace_balance(team):
    hold(team, "member", 300, "job-1")
    hold(team, "owner", 200, "job-2")
    assert CreditAccount.objects.get(workspace=team.workspace).balance == 500


def test_hold_and_its_settlement_name_the_member_who_placed_it(team):
    placed = hold(team, "member", 40, "job-1")
    capture_hold(hold_id=placed.pk, amount=30, reason="done", actor=None)
    entries = LedgerEntry.objects.filter(hold=placed).order_by("id")
    assert [(e.kind, e.amount, e.member) for e in entries] == [
        ("hold", -40, team.member),
        ("capture", 10, team.member),
    ]
    assert Hold.objects.get(pk=placed.pk).placed_by == team.member


def test_a_colleague_cancelling_is_the_actor_but_the_spend_stays_the_members(team):
    placed = hold(team, "member", 40, "job-1")
    release_hold(hold_id=placed.pk, reason="Job cancelled", actor=team.admin)
    release = LedgerEntry.objects.get(hold=placed, kind="release")
    assert (release.member, release.actor) == (team.member, team.admin)


def test_someone_outside_the_workspace_cannot_spend_it(team, outsider):
    with pytest.raises(NotAMember):
        place_hold(workspace=team.workspace, member=outsider, amount=10, reference="job-x", reason="t")
    assert CreditAccount.objects.get(workspace=team.workspace).balance == 1000


def test_the_workspace_balance_is_the_limit(team):
    hold(team, "member", 900, "job-1")
    with pytest.raises(InsufficientCredits):
        hold(team, "admin", 200, "job-2")


# --- Monthly cap per member -----------------------------------------------------------
def set_cap(team, role, cap):
    membership = team.membership(role)
    membership.monthly_spend_cap = cap
    membership.save(update_fields=["monthly_spend_cap"])


def test_a_member_cannot_hold_past_their_monthly_cap(team):
    set_cap(team, "member", 50)
    hold(team, "member", 30, "job-1")
    with pytest.raises(SpendingCapReached) as refused:
        hold(team, "member", 30, "job-2")
    assert (refused.value.cap, refused.value.spent, refused.value.needed) == (50, 30, 30)
    hold(team, "owner", 300, "job-3")  # the cap is the member's, not the workspace's
    assert Hold.objects.filter(placed_by=team.member).count() == 1


def test_the_cap_counts_what_was_charged_not_what_was_returned(team):
    set_cap(team, "member", 50)
    released = hold(team, "member", 40, "job-1")
    release_hold(hold_id=released.pk, reason="failed")
    captured = hold(team, "member", 40, "job-2")
    capture_hold(hold_id=captured.pk, amount=25, reason="done")
    hold(team, "member", 25, "job-3")  # 25 charged + 25 held = the cap exactly
    with pytest.raises(SpendingCapReached):
        hold(team, "member", 1, "job-4")


def test_the_cap_starts_again_each_month(team):
    set_cap(team, "member", 50)
    last_month = hold(team, "member", 50, "job-1")
    capture_hold(hold_id=last_month.pk, amount=50, reason="done")
    Hold.objects.filter(pk=last_month.pk).update(created_at=timezone.now() - timedelta(days=40))
    hold(team, "member", 50, "job-2")


def test_no_cap_means_only_the_balance_limits(team):
    set_cap(team, "member", None)
    hold(team, "member", 1000, "job-1")


# --- Who spent what ---------------------------------------------------------------------
def test_spending_by_member_includes_someone_who_left(team):
    done = hold(team, "member", 40, "job-1")
    capture_hold(hold_id=done.pk, amount=40, reason="done")
    hold(team, "admin", 15, "job-2")
    remove_member(membership=team.membership("member"), actor_membership=team.membership("owner"))
    rows = {row.user: row for row in spending_by_member(team.workspace)}
    assert (rows[team.member].role, rows[team.member].spent_total, rows[team.member].spent_this_month) == ("", 40, 40)
    assert (rows[team.admin].held, rows[team.admin].spent_this_month, rows[team.admin].spent_total) == (15, 15, 0)
    assert rows[team.viewer].spent_this_month == 0


def test_credits_page_shows_the_workspace_balance_and_who_spent_what(client, team):
    set_cap(team, "member", 500)
    done = hold(team, "member", 40, "job-1")
    capture_hold(hold_id=done.pk, amount=35, reason="Lip-sync, 4 s")
    html = switch_client_to(client, team.viewer, team.workspace).get(reverse("credits:page")).content.decode()
    assert 'id="credits-available">965<' in html
    assert "team-member" in html and "500 (465 left)" in html
    assert "team allowance" in html and "Lip-sync, 4 s" in html


def test_credits_page_shows_only_the_current_workspace(client, team, outsider):
    html = switch_client_to(client, outsider, outsider.memberships.get().workspace).get(reverse("credits:page"))
    assert "Acme marketing" not in html.content.decode() and "team allowance" not in html.content.decode()
