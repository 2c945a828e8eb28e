"""The message templates' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

Every template URL takes the template's ``pk``; the API viewset finds its row through its model.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency


def a_message_template(agency: Agency) -> models.Model:
    """The agency's English survey SMS template (every agency gets the defaults when created)."""
    from caseload.messaging.models import MessageTemplate
    from caseload.messaging.templates import seed_templates
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        seed_templates(agency)
        return MessageTemplate.objects.for_agency(agency).get(purpose="survey", channel="sms", language="en")


def _model_factories() -> dict[type[models.Model], Callable[[Agency], models.Model]]:
    from caseload.messaging.models import MessageTemplate

    return {MessageTemplate: a_message_template}


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {**_model_factories()}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    # Message templates (template_views.py)
    "messaging:template_edit": a_message_template,
    "messaging:template_preview": a_message_template,
    "messaging:template_reset": a_message_template,
    "api:message-template-detail": a_message_template,
}

SKIPPED: dict[str, str] = {}
