from tests.jobs.conftest import inputs, make_job  # noqa: F401  (jobs made without the form)
