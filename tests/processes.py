"""Real processes for end-to-end tests: ``manage.py qcluster`` and ``manage.py track_jobs``
run as subprocesses against the test database, each in its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_env() -> dict[str, str]:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return {"DATABASE_URL": "", "SQLITE_PATH": str(db["NAME"])}
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return {"DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}


class Workers:
    """The subprocesses of one test, each in its own process group (qcluster forks)."""

    def __init__(self, env: dict[str, str], logdir: Path):
        self.env = env
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.starts = 0

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.starts += 1
        log = open(self.logdir / f"{name}-{self.starts}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_cluster(self) -> None:
        """The main cluster and the render cluster, as the Procfile runs them."""
        self.start("qcluster", "qcluster")
        self.start_render_cluster()

    def start_render_cluster(self) -> None:
        if "renders" in self.procs and self.procs["renders"].poll() is None:
            return  # still running (only the main cluster was killed)
        site = self.env.get("Q_SITE_NAME") or "lipsync"
        self.start("renders", "qcluster", env={"Q_CLUSTER_NAME": f"{site}-renders"})

    def start_tracker(self) -> None:
        self.start("tracker", "track_jobs", "--concurrency", "2", "--sweep-every", "0.5")

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    def logs(self) -> str:
        files = sorted(self.logdir.glob("*.log"))
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in files)
