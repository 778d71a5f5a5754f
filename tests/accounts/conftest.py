import pytest
from django.core.cache import caches


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Failed-sign-in counts live in the shared cache, which a Redis cache keeps between
    tests (the database cache is rolled back with the test)."""
    caches["default"].clear()
    yield
    caches["default"].clear()
