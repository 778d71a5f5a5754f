"""Benchmark (not a test): one tracker keeping 1,000 jobs in flight against the RunComfy
simulator. Prints the median and 95th percentile poll lag (seconds between a job being due
and its poll starting), provider calls per minute, and the CPU the tracker used.

    python benchmarks/bench_tracker.py                       # SQLite file in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jobs python benchmarks/bench_tracker.py
    python benchmarks/bench_tracker.py --rate 100000         # no rate limit: backoff only

The simulator runs in its own process (its CPU is not the tracker's). Its runs are
submitted over HTTP with the ``failed_run`` + ``never_finishes`` faults, so they cost no
input fetching or rendering and stay in flight for the whole measurement. Jobs start with
ages spread over 0-300 s (so intervals from 2 s to 30 s) and first polls spread over one
interval: the tracker is measured in steady state, not draining a start-up backlog.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIMULATOR = """
import sys
from lipsync_site.providers.simulators.runcomfy import RunComfySimulator
RunComfySimulator(port=int(sys.argv[1]), queue_polls=2, running_polls=1).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120.0, help="measurement window")
    parser.add_argument("--rate", type=int, default=600, help="PROVIDER_CALLS_PER_MINUTE")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-tracker-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lipsync_site.settings")
    os.environ["LIPSYNC_VAR_DIR"] = str(workdir)
    os.environ["PROVIDER_CALLS_PER_MINUTE"] = str(args.rate)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    port = free_port()
    os.environ["RUNCOMFY_API_KEY"] = ""
    os.environ["RUNCOMFY_SIMULATOR_URL"] = f"http://127.0.0.1:{port}"

    import django

    django.setup()
    import httpx
    import psutil
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from lipsync_site.consent.services import record_attestation
    from lipsync_site.credits.services import grant_credits, place_hold, release_hold
    from lipsync_site.jobs.models import Job, JobEvent, ProviderCallBudget, Status
    from lipsync_site.jobs.tracker import Tracker, summarise_lags
    from lipsync_site.jobs.workflow.policy import poll_interval
    from lipsync_site.media.models import Asset
    from lipsync_site.workspaces.services import create_workspace

    call_command("migrate", verbosity=0)
    simulator = subprocess.Popen([sys.executable, "-c", SIMULATOR, str(port)], cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
            for _ in range(600):  # a busy machine can take many seconds to import it
                try:
                    client.get("/_sim/stats")
                    break
                except httpx.TransportError:
                    if simulator.poll() is not None:
                        sys.exit("the simulator did not start")
                    time.sleep(0.1)
            for fault in ("failed_run", "never_finishes"):
                client.post("/_sim/faults", json={"fault": fault, "count": args.jobs})
            body = {"video_url": "http://127.0.0.1:9/v.mp4", "audio_url": "http://127.0.0.1:9/a.wav"}
            request_ids = [
                client.post("/v1/models/sync/sync/lipsync/v2", json=body, headers={"Authorization": "Bearer x"}).json()[
                    "request_id"
                ]
                for _ in range(args.jobs)
            ]

        user, _ = get_user_model().objects.get_or_create(username="bench-tracker")
        workspace = create_workspace(name="Tracker benchmark", owner=user)
        grant_credits(workspace=workspace, amount=100 * args.jobs, reason="benchmark")
        asset = Asset.objects.filter(owner=user).first()
        now = timezone.now()
        fair_share = args.jobs / (args.rate / 60.0) * 1.2
        rng = random.Random(7)
        with transaction.atomic():
            attestation = record_attestation(
                user=user,
                likeness_consent=True,
                voice_provenance="own",
                person_name="Bench",
                media_sha256=[],
                ip_address=None,
                user_agent="bench",
            )
            for request_id in request_ids:
                age = rng.uniform(0, 300)
                interval = poll_interval(age, fair_share=fair_share)
                job = Job(
                    workspace=workspace,
                    owner=user,
                    shape="video_audio",
                    route_id="sync-v2",
                    provider="runcomfy",
                    source_video=asset,
                    attestation=attestation,
                    estimated_seconds=5,
                    estimated_credits=25,
                    status=Status.PROVIDER_QUEUED,
                    provider_request_id=request_id,
                    started_at=now - timedelta(seconds=age),
                    next_poll_at=now + timedelta(seconds=rng.uniform(0, interval)),
                    deadline_at=now + timedelta(hours=2),
                )
                job.hold = place_hold(
                    workspace=workspace, member=user, amount=25, reference=str(job.id), reason="benchmark"
                )
                job.save(force_insert=True)
        ProviderCallBudget.objects.all().delete()

        with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
            calls_before = client.get("/_sim/stats").json()["calls"]
        lags: list[float] = []
        polls = 0
        tracker = Tracker(batch=args.batch, concurrency=args.concurrency, sweep_every=5.0)

        def on_tick(report):
            nonlocal polls
            polls += report.polled
            lags.extend(report.lags)

        process = psutil.Process()
        cpu_before = process.cpu_times()
        started = time.monotonic()
        tracker.run(until=started + args.seconds, on_tick=on_tick)
        elapsed = time.monotonic() - started
        cpu_after = process.cpu_times()
        with httpx.Client(base_url=base, timeout=10, trust_env=False) as client:
            calls = client.get("/_sim/stats").json()["calls"] - calls_before
        cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
        figures = summarise_lags(lags)
        print(f"database: {connection.vendor}; jobs in flight: {args.jobs}; rate limit: {args.rate}/min")
        print(f"window: {elapsed:.0f} s; polls: {polls}; concurrency {args.concurrency}, batch {args.batch}")
        print(f"poll lag: median {figures['median']:.2f} s, p95 {figures['p95']:.2f} s")
        print(f"provider calls: {calls / elapsed * 60:.0f} per minute (limit {args.rate})")
        print(f"tracker CPU: {cpu:.1f} s over {elapsed:.0f} s = {100 * cpu / elapsed:.1f}% of one core")
    finally:
        simulator.kill()
        simulator.wait()
        if connection.vendor == "postgresql":
            jobs = Job.objects.filter(owner__username="bench-tracker")
            for hold_id in jobs.values_list("hold_id", flat=True):
                release_hold(hold_id=hold_id, reason="benchmark over")
            JobEvent.objects.filter(job__in=jobs).delete()
            jobs.delete()  # the ledger rows stay: append-only


if __name__ == "__main__":
    main()
