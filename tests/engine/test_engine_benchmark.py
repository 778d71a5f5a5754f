"""``make bench``: the local engine benchmark, printed; it fails when it measured nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_local_engine.py"


def test_local_engine_benchmark_prints_its_figures_next_to_a_plain_transcode():
    completed = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=3000)
    print(completed.stdout)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    for size in ("480p", "720p", "1080p", "1080x1920"):
        assert size in completed.stdout
    assert "engine/plain" in completed.stdout and "sound 200 ms early" in completed.stdout
