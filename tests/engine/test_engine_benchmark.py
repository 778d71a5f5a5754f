"""``make bench``: the local engine benchmark, printed, not timed."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_local_engine.py"


def test_local_engine_benchmark_prints_its_figures():
    completed = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=1800)
    print(completed.stdout)
    assert completed.returncode == 0, completed.stderr
    assert "x real time" in completed.stdout
