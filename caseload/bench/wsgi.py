"""The WSGI application of the HTTP load scenario: the product with the bench's floor path (``bench.urls``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseload.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = "caseload.bench.urls"
