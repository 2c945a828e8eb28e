"""The formbuilder pages' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

The Administration → Forms pages of a standard form take a FormDefinition's ``pk``. Definitions
are shared by every agency (each agency configures its own questions on the same form), so another
agency's administrator rightly gets the page, for their agency's questions: the sweep's "another
agency's row answers 404" does not apply. Those URLs are skipped here and tested in
caseload/formbuilder/tests/test_admin_views.py (403 for a caseworker, another agency's questions
unreachable, unknown question or form 404). The client-profile pages take no argument and are swept.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency

MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {}

_SHARED = (
    "takes the pk of a FormDefinition, shared by every agency (an administrator of any agency configures their "
    "own questions on it); tested in caseload/formbuilder/tests/test_admin_views.py"
)

SKIPPED: dict[str, str] = {
    "formbuilder:form_definition": _SHARED,
    "formbuilder:form_questions": _SHARED,
    "formbuilder:form_question_edit": _SHARED,
    "formbuilder:form_question_retire": _SHARED,
    "formbuilder:form_question_move": _SHARED,
    "formbuilder:form_questions_export": _SHARED,
    "formbuilder:form_questions_import": _SHARED,
}
