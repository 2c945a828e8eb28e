import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    # A French request leaves French active in the thread; every test starts (and ends) in English.
    with translation.override("en"):
        yield
