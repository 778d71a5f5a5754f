"""Races that only a real database with row locks can show (SQLite ignores
``select_for_update``): many requests and deliveries at once, on PostgreSQL."""

import threading
from pathlib import Path

import pytest
from django.db import connections

from lipsync_site.credits.models import CreditAccount, Hold
from lipsync_site.credits.services import InsufficientCredits, grant_credits
from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.services import Consent, JobInputs, create_job
from lipsync_site.jobs.workflow import policy
from lipsync_site.jobs.workflow.submit import submit_job
from tests.conftest import _user as make_user
from tests.factories import end, stored_file, workspace_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(count, work):
    """Run ``work(i)`` in ``count`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_twenty_submissions_at_once_with_credits_for_five(inputs):
    user = make_user("frugal")
    grant_credits(workspace=workspace_of(user), amount=25, reason="enough for five drafts")  # local draft: 5 credits
    # The same media, in the frugal user's own workspace.
    video = stored_file(user, Path(inputs["video"].file.path), "video")
    voice = stored_file(user, Path(inputs["voice"].file.path), "audio")

    def submit(_):
        return create_job(
            owner=user,
            workspace=workspace_of(user),
            inputs=JobInputs(shape="video_audio", route_id="local-draft", source_video=video, voice=voice),
            consent=Consent(likeness_consent=True, voice_provenance="own", person_name="Ada Example"),
        )

    results = at_once(20, submit)
    made = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(made) == 5 and len(refused) == 15, [r for r in results if not isinstance(r, Job | InsufficientCredits)]
    assert Job.objects.filter(owner=user).count() == 5
    assert Hold.objects.filter(account__workspace=workspace_of(user)).count() == 5
    assert CreditAccount.objects.get(workspace=workspace_of(user)).balance == 0
    assert all(job.estimated_credits == job.hold.amount == 5 for job in made)  # cost shown = held


def test_two_members_submitting_at_once_against_a_balance_for_one_job_get_exactly_one(media_dir):
    """One workspace, credits for one draft, two colleagues pressing Start together."""
    from tests import mediafactory
    from tests.conftest import Team

    team = Team(credits=5)  # local draft: 5 credits
    clip = mediafactory.make_video(media_dir / "team.mp4", seconds=1.0)
    track = mediafactory.make_audio(media_dir / "team.wav", seconds=1.0)
    video = stored_file(team.member, clip, "video", team.workspace)
    voice = stored_file(team.admin, track, "audio", team.workspace)
    members = [team.member, team.admin]

    def submit(i):
        return create_job(
            owner=members[i],
            workspace=team.workspace,
            inputs=JobInputs(shape="video_audio", route_id="local-draft", source_video=video, voice=voice),
            consent=Consent(likeness_consent=True, voice_provenance="own", person_name="Ada Example"),
        )

    results = at_once(2, submit)
    made = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(made) == 1 and len(refused) == 1, results
    assert Job.objects.filter(workspace=team.workspace).count() == 1
    assert CreditAccount.objects.get(workspace=team.workspace).balance == 0
    end(made[0])


def test_twenty_deliveries_of_one_submit_send_it_once(site, runcomfy_sim, make_job):
    job = make_job()
    at_once(20, lambda _: submit_job(job.pk))
    job.refresh_from_db()
    assert runcomfy_sim.submit_count == 1 and job.submit_attempts == 1
    assert job.status == Status.PROVIDER_QUEUED
    end(job, "test over")


def test_running_limit_holds_under_concurrent_submits(site, runcomfy_sim, make_job, settings):
    settings.JOBS_MAX_RUNNING_PER_USER = 3
    jobs = [make_job() for _ in range(10)]
    at_once(10, lambda i: submit_job(jobs[i].pk))
    assert Job.objects.filter(status__in=policy.RUNNING_STATES).count() == 3
    assert runcomfy_sim.submit_count == 3
    for job in jobs:
        end(job, "test over")


def test_concurrent_trackers_never_poll_a_job_twice(make_job, engine_settings):
    from django.utils import timezone

    from lipsync_site.jobs.tracker import claim_due_jobs
    from lipsync_site.jobs.workflow.leases import Lease

    jobs = [make_job() for _ in range(40)]
    Job.objects.update(status=Status.PROVIDER_QUEUED, provider_request_id="r", next_poll_at=timezone.now())
    claims = at_once(8, lambda i: claim_due_jobs("runcomfy", 10, Lease(f"tracker-{i}")))
    claimed = [job_id for claim in claims for job_id, _ in claim]
    assert len(claimed) == len(set(claimed)) == 40
    for job in jobs:
        end(job, "test over")
