"""The site's settings with the benchmark's URL map (see tests/bench_site.py)."""

from lipsync_site.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench_site"
