# Read by gunicorn from the working directory (its default config file). Command-line
# options in the Procfile still apply.
import os
import shutil
from pathlib import Path

# The access log never prints a provider's signed input link whole.
logger_class = "lipsync_site.gunicorn_logging.RedactingLogger"

# Prometheus in multiprocess mode: each worker writes its metrics to files in this
# directory, and /metrics (any worker) adds them all up. One directory per gunicorn master,
# emptied at start (values of a previous run must not be counted again).
_var = Path(os.environ.get("LIPSYNC_VAR_DIR") or Path(__file__).resolve().parent / "var")
_metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or _var / "prometheus" / str(os.getpid()))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir.name == str(os.getpid()):
        shutil.rmtree(_metrics_dir, ignore_errors=True)
