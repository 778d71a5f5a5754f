from lipsync_site.providers.simulators.pytest_fixtures import *  # noqa: F403
