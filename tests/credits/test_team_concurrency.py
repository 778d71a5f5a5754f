"""Members of one workspace racing for its balance and a member racing their own cap, on
PostgreSQL (SQLite ignores ``select_for_update``)."""

import pytest

from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.credits.services import InsufficientCredits, SpendingCapReached, place_hold, release_hold
from lipsync_site.workspaces.models import Membership
from tests.conftest import Team
from tests.jobs.test_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_members_at_once_against_a_balance_for_one_job_get_exactly_one():
    team = Team(credits=25)
    members = [team.member, team.admin]

    for attempt in range(5):  # the window is short: race a few times

        def submit(i, attempt=attempt):
            return place_hold(
                workspace=team.workspace, member=members[i], amount=25, reference=f"job-{attempt}-{i}", reason="t"
            )

        results = at_once(2, submit)
        made = [r for r in results if isinstance(r, Hold)]
        refused = [r for r in results if isinstance(r, InsufficientCredits)]
        assert len(made) == 1 and len(refused) == 1, results
        assert CreditAccount.objects.get(workspace=team.workspace).balance == 0
        release_hold(hold_id=made[0].pk, reason="race again")


def test_one_member_submitting_twice_at_once_stays_under_their_cap():
    team = Team(credits=1000)
    Membership.objects.filter(workspace=team.workspace, user=team.member).update(monthly_spend_cap=30)

    def submit(i):
        return place_hold(workspace=team.workspace, member=team.member, amount=20, reference=f"job-{i}", reason="t")

    results = at_once(2, submit)
    assert sorted(type(r).__name__ for r in results) == ["Hold", "SpendingCapReached"], results
    assert any(isinstance(r, SpendingCapReached) for r in results)
