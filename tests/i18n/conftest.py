import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_again_afterwards():
    """A request in Chinese leaves Chinese active in the thread (Django's middleware does not
    undo it): the next test in this worker starts in English, as the others expect."""
    yield
    translation.activate("en")
