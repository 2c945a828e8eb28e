import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _test_settings(settings):
    cache.clear()
