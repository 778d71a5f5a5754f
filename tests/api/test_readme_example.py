"""The README's "Automate it" example, run as it stands against the live site and a real
django-q2 worker: upload a video and three voices, start the batch, wait for the signed
webhooks, download the outputs."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from lipsync_site.api.models import WebhookDelivery
from lipsync_site.api.services import create_webhook
from lipsync_site.jobs.models import Job, Status
from tests import mediafactory
from tests.api.conftest import token_for
from tests.conftest import Team
from tests.processes import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("## Automate it", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_readme_example_dubs_a_video_into_three_languages(live_server, worker, tmp_path):
    team = Team(credits=1000)
    port = free_port()
    hook = create_webhook(
        workspace=team.workspace,
        created_by=team.owner,
        url=f"http://127.0.0.1:{port}/",
        events=["job.succeeded", "job.failed", "job.cancelled"],
    )
    video = mediafactory.make_face_video(tmp_path / "presenter.mp4", seconds=1.5, size=320)
    voices = [
        mediafactory.make_audio(tmp_path / f"{lang}.wav", seconds=1.5, freq=pitch)
        for lang, pitch in (("fr", 180.0), ("de", 220.0), ("es", 260.0))
    ]
    script = tmp_path / "automate.py"
    script.write_text(readme_example())
    env = {
        **os.environ,
        "LIPSYNC_URL": live_server.url,
        "LIPSYNC_TOKEN": token_for(team.member, team.workspace, "read", "write"),
        "LIPSYNC_WEBHOOK_SECRET": hook.secret,
        "WEBHOOK_PORT": str(port),
    }
    run = subprocess.run(
        [sys.executable, str(script), str(video), *map(str, voices)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n{worker.logs()}"

    jobs = list(Job.objects.filter(workspace=team.workspace).order_by("created_at"))
    assert len(jobs) == 3 and len({job.batch for job in jobs}) == 1
    assert all(job.status == Status.SUCCEEDED for job in jobs)
    for job, lang in zip(jobs, ("fr", "de", "es"), strict=True):
        output = tmp_path / "outputs" / f"{lang}.mp4"
        assert output.read_bytes() == job.output.file.open("rb").read()
    assert WebhookDelivery.objects.filter(endpoint=hook, status="delivered").count() == 3
    assert "3 jobs started" in run.stdout
