"""Local renders run on their own django-q2 cluster (ALT_CLUSTERS, the Procfile's
``renders`` line): while a long render holds the render cluster's only worker, a cloud
job's submit, polls and collect still go through on the main cluster's only worker."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from lipsync_site.jobs.models import EventKind, Job, Status
from lipsync_site.jobs.workflow.queue import Task, cluster_for
from tests import factories, mediafactory
from tests.processes import Workers, database_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_local_submit_goes_to_the_render_cluster_and_a_cloud_one_does_not(make_job, settings):
    local, cloud = make_job(route_id="local-draft"), make_job(route_id="sync-v2")
    assert cluster_for(Task.SUBMIT, str(local.pk)) == settings.Q_RENDER_CLUSTER == "lipsync-renders"
    assert cluster_for(Task.SUBMIT, str(cloud.pk)) is None
    assert cluster_for(Task.COLLECT, str(local.pk)) is None  # collecting is quick: the main cluster
    factories.end(local)
    factories.end(cloud)


@pytest.fixture
def workers(site, runcomfy_sim, settings, tmp_path):
    logdir = tmp_path / "logs"
    logdir.mkdir()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "lipsync_site.settings",
        "REDIS_URL": "",
        "LIPSYNC_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
        "RUNCOMFY_API_KEY": "",
        "RUNCOMFY_SIMULATOR_URL": runcomfy_sim.base_url,
        "PROVIDER_EXTRA_DOWNLOAD_HOSTS": "127.0.0.1,localhost",
        "CONSENT_REVIEW_POLICY": "after",
        "Q_WORKERS": "1",  # one worker each: a render on the main cluster would block it
        "Q_RENDER_WORKERS": "1",
        "JOBS_REQUEUE_AFTER_SECONDS": "1",
        "JOBS_POLL_MIN_SECONDS": "0.2",
        "JOBS_POLL_MAX_SECONDS": "0.5",
    }
    running = Workers(env, logdir)
    yield running
    running.stop_all()


def wait_for(predicate, workers, *, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(0.05)


def at(job, kind):
    return job.events.filter(kind=kind).order_by("at").values_list("at", flat=True).first()


def status_of(job) -> str:
    return Job.objects.values_list("status", flat=True).get(pk=job.pk)


def test_a_long_render_does_not_delay_a_cloud_jobs_steps(workers, owner, make_job, media_dir):
    # A render of several seconds on this machine (about a third of real time here).
    long_video = factories.stored_file(owner, mediafactory.make_video(media_dir / "long.mp4", seconds=40.0), "video")
    long_voice = factories.stored_file(owner, mediafactory.make_audio(media_dir / "long.wav", seconds=40.0), "audio")
    render = factories.make_job(owner, video=long_video, voice=long_voice, route_id="local-draft", seconds=40.0)
    # Old enough that the tracker's sweep enqueues it at once.
    Job.objects.filter(pk=render.pk).update(created_at=timezone.now() - timedelta(seconds=30))
    workers.start_cluster()
    workers.start_tracker()
    wait_for(lambda: status_of(render) == Status.RUNNING, workers, timeout=60, what="the render to start")

    cloud = make_job(route_id="sync-v2")  # RunComfy (simulated)
    Job.objects.filter(pk=cloud.pk).update(created_at=timezone.now() - timedelta(seconds=30))
    wait_for(lambda: status_of(cloud) == Status.SUCCEEDED, workers, timeout=90, what="the cloud job")
    wait_for(lambda: status_of(render) == Status.SUCCEEDED, workers, timeout=180, what="the render to finish")

    # Every step of the cloud job (its submit on the main cluster's only worker, its
    # polls, its collect) happened while the render held the render cluster's worker.
    # (A local submit ends when its render does.)
    render_started, render_ended = at(render, EventKind.RUN_STARTED), at(render, EventKind.SUBMIT_ACCEPTED)
    submitted, collected = at(cloud, EventKind.SUBMIT_ACCEPTED), at(cloud, EventKind.COLLECT_SUCCEEDED)
    assert render_started < submitted < render_ended, workers.logs()
    assert collected < at(render, EventKind.RUN_FINISHED), workers.logs()
    call_command("check_ledger")
