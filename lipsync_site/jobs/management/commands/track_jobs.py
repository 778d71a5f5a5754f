"""``manage.py track_jobs``: the tracker loop (Procfile ``tracker``). Run one or several."""

import logging
import signal

from django.core.management.base import BaseCommand

from lipsync_site.jobs.tracker import Tracker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Poll providers for jobs in flight, and sweep for jobs the queue forgot."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=100, help="jobs claimed per provider per tick")
        parser.add_argument("--concurrency", type=int, default=8, help="polls in flight at once")
        parser.add_argument("--sweep-every", type=float, default=5.0, help="seconds between sweeps")
        parser.add_argument("--once", action="store_true", help="one tick, then exit")

    def handle(self, *args, batch, concurrency, sweep_every, once, **options):
        tracker = Tracker(batch=batch, concurrency=concurrency, sweep_every=sweep_every)
        if once:
            try:
                report = tracker.tick()
            finally:
                tracker.close()
            self.stdout.write(f"polled {report.polled}; swept {report.swept}")
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: tracker.stop())
        logger.info("tracker %s started (batch %s, concurrency %s)", tracker.name, batch, concurrency)
        tracker.run()
        logger.info("tracker %s stopped", tracker.name)
