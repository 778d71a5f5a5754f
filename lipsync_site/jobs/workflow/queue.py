"""Putting work on the django-q2 queue, and admitting queued jobs under the running limit.

Tasks are enqueued only after the transaction that made them necessary commits (the Redis
broker is outside the database: a rolled-back job must not be submitted), and carry ids,
never rows.
"""

from __future__ import annotations

import enum
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.tasks import async_task

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.workflow.policy import RUNNING_STATES


class Task(enum.StrEnum):
    """The django-q2 tasks of ``lipsync_site.jobs.tasks``."""

    SUBMIT = "submit_job"
    COLLECT = "collect_job"
    CANCEL_AT_PROVIDER = "cancel_at_provider"
    NOTIFY_OWNER = "notify_owner"


def enqueue_after_commit(task: Task, job_id) -> None:
    """Run ``task`` for the job once the current transaction commits (at once outside one).
    A submit that renders on this machine goes to the render cluster's queue."""
    key = str(job_id)

    def enqueue():
        cluster = cluster_for(task, key)
        extra = {"cluster": cluster} if cluster else {}
        async_task(f"lipsync_site.jobs.tasks.{task.value}", key, task_name=f"{task.value} {key}", **extra)

    transaction.on_commit(enqueue)


def cluster_for(task: Task, job_id: str) -> str | None:
    """The render cluster for a local render (the submit of a local route), else None (the
    main cluster): a render can take minutes, and must not hold up providers' steps."""
    if task != Task.SUBMIT:
        return None
    from lipsync_site.providers.catalog import catalog_route

    route_id = Job.objects.filter(pk=job_id).values_list("route_id", flat=True).first()
    try:
        runs_here = route_id is not None and catalog_route(route_id).provider == "local"
    except LookupError:
        return None
    return settings.Q_RENDER_CLUSTER if runs_here else None


_ANY = object()


def mark_enqueued(job_id, task: Task, *, status: str, was=_ANY) -> bool:
    """Record that ``task`` is on the queue for the job (still in ``status``) and enqueue it
    after commit. With ``was`` (the ``enqueued_at`` the caller read) the update is guarded,
    so two sweeps never both enqueue the same job."""
    jobs = Job.objects.filter(pk=job_id, status=status)
    if was is not _ANY:
        jobs = jobs.filter(enqueued_at=was)
    if not jobs.update(enqueued_at=timezone.now()):
        return False
    enqueue_after_commit(task, job_id)
    return True


def running_count(owner_id) -> int:
    return Job.objects.filter(owner_id=owner_id, status__in=RUNNING_STATES).count()


def may_start(job: Job) -> bool:
    """Whether ``job`` may move to submitting now: the owner's running limit has room for
    it and every older queued job of theirs. Call inside the claiming transaction; it locks
    the owner's row so the limit holds across workers (PostgreSQL; SQLite serialises)."""
    get_user_model().objects.select_for_update().filter(pk=job.owner_id).values_list("pk").first()
    room = settings.JOBS_MAX_RUNNING_PER_USER - running_count(job.owner_id)
    ahead = (
        Job.objects.filter(owner_id=job.owner_id, status=Status.QUEUED)
        .filter(Q(created_at__lt=job.created_at) | Q(created_at=job.created_at, id__lt=job.id))
        .count()
    )
    return ahead < room


def start_waiting_jobs(owner_id, *, stale_before: datetime | None = None) -> int:
    """Enqueue the submit task of the owner's oldest queued jobs, as many as the running
    limit leaves room for. ``stale_before``: only jobs not enqueued since then (the sweep
    passes now minus the requeue delay; a freed slot passes now)."""
    now = timezone.now()
    stale_before = stale_before or now
    room = settings.JOBS_MAX_RUNNING_PER_USER - running_count(owner_id)
    if room <= 0:
        return 0
    candidates = (
        Job.objects.filter(owner_id=owner_id, status=Status.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .annotate(last_enqueued=Coalesce("enqueued_at", "created_at"))
        .order_by("created_at", "id")
        .values_list("id", "enqueued_at", "last_enqueued")[:room]
    )
    started = 0
    for job_id, enqueued_at, last_enqueued in candidates:
        if last_enqueued < stale_before and mark_enqueued(job_id, Task.SUBMIT, status=Status.QUEUED, was=enqueued_at):
            started += 1
    return started


def slot_freed(owner_id) -> None:
    """A job of this owner left the running states: start the next ones after commit."""
    transaction.on_commit(lambda: start_waiting_jobs(owner_id))
