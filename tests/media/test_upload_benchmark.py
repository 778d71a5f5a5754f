"""``make bench`` (pytest -m bench -s): the 1 GiB upload benchmark, printed, not timed."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_upload.py"


def test_upload_of_one_gib_keeps_the_web_process_small(request):
    if "bench" not in (request.config.getoption("-m") or "") or "not bench" in request.config.getoption("-m"):
        pytest.skip("a benchmark: run with -m bench")
    completed = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=900)
    print(completed.stdout)
    assert completed.returncode == 0, completed.stdout + completed.stderr
