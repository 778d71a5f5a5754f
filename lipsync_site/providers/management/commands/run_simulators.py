"""Run the provider simulators in the foreground (``make run`` without keys)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lipsync_site.providers.simulators.nemovideo import NemoVideoSimulator
from lipsync_site.providers.simulators.runcomfy import RunComfySimulator
from lipsync_site.providers.simulators.syncso import SyncSimulator

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


class Command(BaseCommand):
    help = "Serve the provider simulators on loopback until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Loopback address to bind (default 127.0.0.1).")
        parser.add_argument(
            "--runcomfy-port",
            type=int,
            default=_port(settings.RUNCOMFY_SIMULATOR_URL, 8765),
            help="Port of the RunComfy simulator (default: from RUNCOMFY_SIMULATOR_URL).",
        )
        parser.add_argument(
            "--nemo-port",
            type=int,
            default=_port(settings.NEMO_SIMULATOR_URL, 8766),
            help="Port of the NemoVideo simulator (default: from NEMO_SIMULATOR_URL); 0 to skip it.",
        )
        parser.add_argument(
            "--sync-port",
            type=int,
            default=_port(settings.SYNC_SIMULATOR_URL, 8767),
            help="Port of the Sync Labs simulator (default: from SYNC_SIMULATOR_URL); 0 to skip it.",
        )
        parser.add_argument(
            "--dialect-seed",
            type=int,
            default=None,
            help="Answer in a seeded random mix of the dialects the providers' own clients accept "
            "(default: the canonical spelling of each).",
        )
        parser.add_argument("--step-delay", type=float, default=1.0, help="Seconds each simulated step takes.")
        parser.add_argument("--queue-polls", type=int, default=2, help="Polls a RunComfy request stays queued.")
        parser.add_argument("--running-polls", type=int, default=3, help="Polls a RunComfy request stays running.")
        parser.add_argument("--max-output-seconds", type=float, default=10.0, help="Cap on generated clip length.")
        parser.add_argument(
            "--only-needed",
            action="store_true",
            help="Start only the simulators of providers without a key; with every key set, idle "
            "(so a Procfile runner such as honcho keeps the other processes up).",
        )

    def handle(self, *args, **options):
        host = options["host"]
        if host not in LOOPBACK:
            raise CommandError("The simulators bind to loopback only.")
        workdir = Path(settings.VAR_DIR) / "simulators"
        only_needed = options["only_needed"]
        servers = []
        if not (only_needed and settings.RUNCOMFY_API_KEY):
            servers.append(
                RunComfySimulator(
                    host=host,
                    port=options["runcomfy_port"],
                    step_delay=options["step_delay"],
                    queue_polls=options["queue_polls"],
                    running_polls=options["running_polls"],
                    max_output_seconds=options["max_output_seconds"],
                    workdir=workdir / "runcomfy",
                    dialect_seed=options["dialect_seed"],
                )
            )
        if options["nemo_port"] and not (only_needed and (settings.NEMO_TOKEN or settings.NEMO_ANONYMOUS)):
            servers.append(
                NemoVideoSimulator(
                    host=host,
                    port=options["nemo_port"],
                    step_delay=options["step_delay"],
                    render_polls=options["running_polls"],
                    max_output_seconds=options["max_output_seconds"],
                    workdir=workdir / "nemovideo",
                    dialect_seed=options["dialect_seed"],
                )
            )
        if options["sync_port"] and not (only_needed and settings.SYNC_API_KEY):
            servers.append(
                SyncSimulator(
                    host=host,
                    port=options["sync_port"],
                    step_delay=options["step_delay"],
                    pending_seconds=options["step_delay"],
                    max_output_seconds=options["max_output_seconds"],
                    workdir=workdir / "syncso",
                    dialect_seed=options["dialect_seed"],
                )
            )
        for server in servers:
            server.workdir.mkdir(parents=True, exist_ok=True)
            server.start()
            self.stdout.write(
                f"{server.name} simulator on {server.base_url} (faults: POST {server.base_url}/_sim/faults)"
            )
        if not servers:
            self.stdout.write("every provider has a key: no simulator needed")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for server in servers:
                server.stop()
            self.stdout.write("simulators stopped")
