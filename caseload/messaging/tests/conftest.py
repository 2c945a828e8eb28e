import pytest

from caseload.messaging import sms

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _outboxes(settings):
    """Email and SMS stay in memory; tasks run inline unless a test picks another backend."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "caseload.messaging.sms.LocmemBackend"
    settings.TASKS = IMMEDIATE_TASKS
    sms.outbox.clear()
    yield
    sms.outbox.clear()
