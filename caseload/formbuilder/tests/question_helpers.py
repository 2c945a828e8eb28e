"""Shared set-up for the agency-question tests: a small form of our own, questions, a client."""

from __future__ import annotations

from typing import Any

from caseload.formbuilder import loading, questions
from caseload.formbuilder.models import FormDefinition
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope

FORM_KEY = "test_intake"


def a_definition(version: int = 1) -> FormDefinition:
    """A small form, loaded as the standard ones are (key ``test_intake``)."""
    spec = {
        "format": "caseload-form/1",
        "key": FORM_KEY,
        "version": version,
        "name": {"en": "Test intake", "fr": "Accueil test"},
        "scope": "client",
        "code_lists": {},
        "fields": [
            {"key": "reason", "type": "text", "label": {"en": "Reason for visit", "fr": "Raison de la visite"}, "required": True},
        ],
    }
    return loading.load_definition(spec)[0]


def question(label: str = "Do you have a car?", kind: str = "yesno", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "label": {"en": label, "fr": f"{label} (fr)"}, "required": False, **extra}


def add(agency: Agency, form_key: str = FORM_KEY, actor: Any = None, **kwargs: Any):
    with agency_scope(agency):
        return questions.add_question(agency, actor, form_key, question(**kwargs))


def current(agency: Agency, form_key: str = FORM_KEY) -> list[dict[str, Any]]:
    with agency_scope(agency):
        return questions.current_questions(agency, form_key)
