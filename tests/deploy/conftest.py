"""The simulators, for tests that run the deployed processes."""

from lipsync_site.providers.simulators.pytest_fixtures import *  # noqa: F403
