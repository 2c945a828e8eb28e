"""The product's URLs plus one bench-only path: the floor of the page scenarios.

Used only by the benchmark (``override_settings(ROOT_URLCONF=...)`` in-process, ``bench.wsgi``
under gunicorn); the product's URLconf never includes it.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from caseload.urls import handler500
from caseload.urls import urlpatterns as product_urlpatterns

__all__ = ["handler500", "urlpatterns"]


def floor(request: HttpRequest) -> HttpResponse:
    """A bare view: a short response through the same middleware as every page (session, user, agency)."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *product_urlpatterns]
