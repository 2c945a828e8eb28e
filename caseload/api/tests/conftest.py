import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache: each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` logs it in with a session."""

    class Client(APIClient):
        def as_user(self, user):
            self.force_login(user)
            return self

        def with_token(self, user):
            _instance, token = AuthToken.objects.create(user)
            self.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            return self

    return Client()

