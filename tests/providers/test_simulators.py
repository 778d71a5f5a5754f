"""The simulators themselves: control endpoint, counters, faults on demand, the command."""

from __future__ import annotations

import httpx
import pytest
from django.core.management import CommandError, call_command

from lipsync_site.providers.simulators.common import FAULTS, SimulatorError
from lipsync_site.providers.simulators.runcomfy import RunComfySimulator


def post(sim, path, body):
    return httpx.post(f"{sim.base_url}{path}", json=body, trust_env=False)


def test_control_endpoint_arms_faults_and_rejects_unknown_ones(runcomfy_sim):
    assert (
        post(runcomfy_sim, "/_sim/faults", {"fault": "server_error", "count": 2, "endpoint": "status"}).status_code
        == 200
    )
    assert runcomfy_sim.faults[0].count == 2
    answer = post(runcomfy_sim, "/_sim/faults", {"fault": "gremlins"})
    assert answer.status_code == 400 and "unknown fault" in answer.json()["error"]
    with pytest.raises(SimulatorError):
        runcomfy_sim.inject("gremlins")


def test_faults_hit_only_their_endpoint_and_count_down(runcomfy_sim):
    runcomfy_sim.inject("server_error", count=2, endpoint="status", status=502)
    headers = {"Authorization": "Bearer x"}
    status_url = f"{runcomfy_sim.base_url}/v1/requests/nope/status"
    result_url = f"{runcomfy_sim.base_url}/v1/requests/nope/result"
    assert httpx.get(result_url, headers=headers, trust_env=False).status_code == 404
    assert [httpx.get(status_url, headers=headers, trust_env=False).status_code for _ in range(3)] == [502, 502, 404]


def test_submit_counter_and_reset(runcomfy_sim, provider_media):
    body = {"video_url": provider_media.url("video.mp4"), "audio_url": provider_media.url("voice.wav")}
    headers = {"Authorization": "Bearer x"}
    for _ in range(2):
        answer = httpx.post(
            f"{runcomfy_sim.base_url}/v1/models/sync/sync/lipsync/v2", json=body, headers=headers, trust_env=False
        )
        assert answer.status_code == 200
        assert set(answer.json()) == {"request_id", "status_url", "result_url", "cancel_url"}
    assert runcomfy_sim.submit_count == 2
    assert httpx.get(f"{runcomfy_sim.base_url}/_sim/stats", trust_env=False).json()["submits"] == 2
    post(runcomfy_sim, "/_sim/reset", {})
    assert runcomfy_sim.submit_count == 0 and runcomfy_sim.runs == {}


def test_unknown_model_and_missing_token_answer_like_the_service(runcomfy_sim):
    answer = httpx.post(
        f"{runcomfy_sim.base_url}/v1/models/no/such/model",
        json={},
        headers={"Authorization": "Bearer x"},
        trust_env=False,
    )
    assert answer.json()["error_code"] == 400001
    answer = httpx.get(f"{runcomfy_sim.base_url}/v1/requests/x/status", trust_env=False)
    assert answer.status_code == 401 and answer.json()["error_code"] == 400004


def test_every_listed_fault_exists():
    assert {
        "rate_limit",
        "server_error",
        "slow",
        "drop",
        "malformed_json",
        "error_200",
        "accepted_then_error",
        "accepted_then_drop",
        "failed_run",
        "never_finishes",
        "disallowed_host",
        "oversize_output",
        "truncated_output",
    } == FAULTS


def test_simulator_as_context_manager_frees_its_port():
    with RunComfySimulator() as sim:
        port = sim.port
        assert httpx.get(f"{sim.base_url}/_sim/stats", trust_env=False).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/_sim/stats", trust_env=False)


def test_command_refuses_to_bind_beyond_loopback():
    with pytest.raises(CommandError, match="loopback"):
        call_command("run_simulators", host="0.0.0.0")  # noqa: S104


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_command_serves_every_simulator_until_terminated(tmp_path):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from lipsync_site.providers.simulators.common import wait_until

    ports = [_free_port(), _free_port(), _free_port()]
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "LIPSYNC_VAR_DIR": str(tmp_path), "DJANGO_ENV": "test"}
    command = ["manage.py", "run_simulators", "--runcomfy-port", str(ports[0]), "--nemo-port", str(ports[1])]
    command += ["--sync-port", str(ports[2]), "--dialect-seed", "3"]
    process = subprocess.Popen(
        [sys.executable, *command], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def stats(port):
        try:
            return httpx.get(f"http://127.0.0.1:{port}/_sim/stats", trust_env=False, timeout=1).json()
        except httpx.HTTPError:
            return None

    try:
        assert wait_until(lambda: all(stats(port) for port in ports), timeout=20, interval=0.1)
        assert [stats(port)["submits"] for port in ports] == [0, 0, 0]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_a_fault_can_hit_one_request_in_n(runcomfy_sim):
    runcomfy_sim.inject("rate_limit", count=10, endpoint="status", every=2, retry_after=1)
    answers = [
        httpx.get(f"{runcomfy_sim.base_url}/v1/requests/x/status", headers={"Authorization": "Bearer t"}).status_code
        for _ in range(6)
    ]
    assert answers == [404, 429, 404, 429, 404, 429]
