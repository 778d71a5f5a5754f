"""Data for the studio's tests and benchmarks: delivered jobs with real outputs (through the
workflow's own transitions and settle), and large histories built in bulk with a ledger
that still balances."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from lipsync_site.consent.services import record_attestation
from lipsync_site.credits.models import CreditAccount, Hold, LedgerEntry
from lipsync_site.credits.services import grant_credits
from lipsync_site.jobs.models import EventKind, Job, Status, search_text_for
from lipsync_site.jobs.workflow.settle import settle
from lipsync_site.media.models import Asset
from tests import factories


def deliver(job: Job, output: Asset, *, score: float = 0.8, drift: float = 0.0, charge: int | None = None) -> Job:
    """Take a queued job to succeeded as the workflow does (submit, collect, settle with
    the capture), with ``output`` as its video."""
    job.transition(Status.SUBMITTING, kind=EventKind.SUBMIT_STARTED, message="tests")
    job.transition(Status.COLLECTING, kind=EventKind.RUN_FINISHED, message="tests")
    settle(
        job,
        to=Status.SUCCEEDED,
        why="Output ready (tests).",
        kind=EventKind.COLLECT_SUCCEEDED,
        charge=job.estimated_credits if charge is None else charge,
        allowed_from={Status.COLLECTING},
        output=output,
        progress=1.0,
        lipsync_score=score,
        mouth_moving=score > 0.3,
        duration_drift_seconds=drift,
    )
    job.refresh_from_db()
    return job


def titled(job: Job, title: str, *, names=(), speaker: str = "", simulated: bool = False) -> Job:
    """Give a factory job the title and search text creation would have written."""
    text = search_text_for(title=title, names=names, people=["Ada Example", speaker], script="")
    Job.objects.filter(pk=job.pk).update(title=title, search_text=text, simulated=simulated)
    job.refresh_from_db()
    return job


ROUTES = ("sync-v2-pro", "kling-lipsync-audio", "local-draft", "sync-v2")
LANGUAGES = ("French", "German", "Spanish", "Italian", "Japanese")


def bulk_history(owner, count: int, *, poster: Asset | None = None, start=None) -> None:
    """``count`` delivered jobs made by ``owner`` in their first workspace, one a minute back
    from ``start``, made in bulk: each with its hold captured and its ledger entries (naming
    the member), so the ledger checks stay clean."""
    start = start or timezone.now()
    workspace = factories.workspace_of(owner)
    grant_credits(workspace=workspace, amount=8 * count, reason="tests: what the bulk history spends")
    account = CreditAccount.objects.get(workspace=workspace)
    with transaction.atomic():
        attestation = record_attestation(
            user=owner,
            likeness_consent=True,
            voice_provenance="own",
            person_name="Ada Example",
            speaker_name="Bo Speaker",
            media_sha256=[],
            ip_address="127.0.0.1",
            user_agent="tests",
        )
        holds, entries, jobs = [], [], []
        for index in range(count):
            job_id = uuid.uuid4()
            route = ROUTES[index % len(ROUTES)]
            language = LANGUAGES[index % len(LANGUAGES)]
            hold = Hold(
                account=account,
                placed_by=owner,
                amount=10,
                reference=str(job_id),
                status=Hold.Status.CAPTURED,
                captured_amount=8,
                settled_at=start,
            )
            holds.append(hold)
            entries.append(
                LedgerEntry(account=account, member=owner, kind="hold", amount=-10, hold=hold, reason="bulk")
            )
            entries.append(
                LedgerEntry(account=account, member=owner, kind="capture", amount=2, hold=hold, reason="bulk")
            )
            title = f"Spring launch {index:05d} {language} dub"
            jobs.append(
                Job(
                    id=job_id,
                    owner=owner,
                    workspace=workspace,
                    status=Status.SUCCEEDED,
                    shape="video_audio",
                    route_id=route,
                    provider="local" if route == "local-draft" else "runcomfy",
                    title=title,
                    search_text=search_text_for(
                        title=title,
                        names=[f"presenter-{index:05d}.mp4", f"voice-{language.lower()}-{index:05d}.wav"],
                        people=["Ada Example", "Bo Speaker"],
                        script="",
                    ),
                    attestation=attestation,
                    hold=hold,
                    estimated_seconds=8.0,
                    estimated_credits=10,
                    charged_credits=8,
                    poster=poster,
                    progress=1.0,
                    finished_at=start,
                )
            )
        Hold.objects.bulk_create(holds, batch_size=1000)
        LedgerEntry.objects.bulk_create(entries, batch_size=2000)
        Job.objects.bulk_create(jobs, batch_size=1000)
        # created_at is auto_now_add: spread the jobs back in time, newest first.
        for index, job in enumerate(jobs):
            job.created_at = start - timedelta(minutes=index)
        Job.objects.bulk_update(jobs, ["created_at"], batch_size=1000)
        account.balance -= 8 * count
        account.save(update_fields=["balance"])


def make_owner_job(owner, inputs, **kwargs) -> Job:
    return factories.make_job(owner, video=inputs["video"], voice=inputs["voice"], **kwargs)
