"""``manage.py check_ledger`` and the invariants it checks."""

import pytest
from django.core.management import CommandError, call_command

from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.credits.services import HoldAlreadySettled, capture_hold, place_hold, release_hold
from lipsync_site.jobs.models import Job, Status
from tests.factories import workspace_of

pytestmark = pytest.mark.django_db


def test_clean_ledger_reports_clean(owner, capsys):
    hold = place_hold(workspace=workspace_of(owner), member=owner, amount=30, reference="job-a", reason="test")
    capture_hold(hold_id=hold.pk, amount=20, reason="done")
    call_command("check_ledger")
    assert "Ledger clean." in capsys.readouterr().out
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 980


def test_a_drifted_balance_is_reported(owner):
    CreditAccount.objects.filter(workspace=workspace_of(owner)).update(balance=999)
    with pytest.raises(CommandError, match="1 ledger problem"):
        call_command("check_ledger")
    CreditAccount.objects.filter(workspace=workspace_of(owner)).update(balance=1000)  # leave it clean for the tripwire


def test_an_entry_charged_to_another_member_than_the_holder_is_reported(owner, outsider, capsys):
    from lipsync_site.credits.models import LedgerEntry

    hold = place_hold(workspace=workspace_of(owner), member=owner, amount=30, reference="job-c", reason="test")
    LedgerEntry.objects.filter(hold=hold).update(member=outsider)
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert "names another member than the one who held" in capsys.readouterr().err
    LedgerEntry.objects.filter(hold=hold).update(member=owner)
    release_hold(hold_id=hold.pk, reason="clean up")


def test_a_hold_cannot_be_settled_twice(owner):
    hold = place_hold(workspace=workspace_of(owner), member=owner, amount=30, reference="job-b", reason="test")
    release_hold(hold_id=hold.pk, reason="failed")
    with pytest.raises(HoldAlreadySettled):
        capture_hold(hold_id=hold.pk, amount=30, reason="retried step")
    with pytest.raises(HoldAlreadySettled):
        release_hold(hold_id=hold.pk, reason="retried step")
    assert CreditAccount.objects.get(workspace=workspace_of(owner)).balance == 1000


def test_a_finished_job_with_an_open_hold_is_reported(make_job, capsys):
    job = make_job()
    Job.objects.filter(pk=job.pk).update(status=Status.FAILED)  # bypassing fail_job: no release
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert f"job {job.pk} is failed but its hold is still open" in capsys.readouterr().err
    release_hold(hold_id=job.hold_id, reason="repair")
    assert Hold.objects.get(pk=job.hold_id).status == Hold.Status.RELEASED
    call_command("check_ledger")
