"""``make bench`` (pytest -m bench -s): runs benchmarks/bench_tracker.py and shows its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
def test_tracker_benchmark_prints_its_figures():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_tracker.py", "--jobs", "1000", "--seconds", "60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "poll lag: median" in result.stdout
