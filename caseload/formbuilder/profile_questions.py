"""The agency's questions on the client profile, as the client's pages show them.

The edit page shows them after the profile's own fields (inputs named ``aq-<key>``), reads them
back and validates them with the engine before anything is saved; the Overview shows the answers
under the version of the questions they were given under.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.safestring import SafeString

from caseload.clients.models import Client
from caseload.formbuilder import engine, loading, questions, rendering
from caseload.formbuilder.models import CLIENT_PROFILE

PREFIX = "aq"


class ProfileQuestions:
    """The agency questions of one client's edit page: ``bind(request.POST)``, then ``save``."""

    def __init__(self, client: Client) -> None:
        self.client = client
        _definition, self.extension, self.spec = loading.form_spec(client.agency, CLIENT_PROFILE)
        self.row = questions.profile_answers(client)
        self.answers: dict[str, Any] = dict(self.row.answers) if self.row is not None else {}
        self.cleaned: dict[str, Any] | None = None
        self.errors: engine.AnswerErrors | dict[str, str] | None = None

    @property
    def asked(self) -> bool:
        """Whether the agency asks any question on the profile."""
        return bool(self.spec.get("fields"))

    def bind(self, data: Any) -> bool:
        """Read the answers from a POST and validate them: True when they are valid."""
        if not self.asked:
            self.cleaned = {}
            return True
        posted = rendering.answers_from_post(self.spec, data, prefix=PREFIX)
        self.answers = posted.answers
        try:
            self.cleaned = engine.validate(self.spec, posted.answers)
        except engine.AnswerErrors as error:
            self.errors = error
            return False
        return True

    def save(self, actor: Any) -> None:
        """Save the validated answers (call ``bind`` first); nothing when the agency asks nothing."""
        if self.asked and self.cleaned is not None:
            questions.save_profile_answers(self.client, actor, self.cleaned)

    def html(self) -> SafeString:
        if not self.asked:
            return SafeString("")
        return rendering.render_fields(self.spec, self.answers, self.errors, prefix=PREFIX)


def profile_answers_html(client: Client) -> SafeString:
    """The client's answers to the agency questions, under the version they were given under
    (empty when there are none)."""
    row = questions.profile_answers(client)
    if row is None or not _answered(row.answers):
        return SafeString("")
    return rendering.render_answers(loading.record_spec(None, row.extension), row.answers)


def _answered(answers: Mapping[str, Any] | None) -> bool:
    return any(value not in (None, "", [], {}) for value in (answers or {}).values())


def export_columns(agency: Any) -> list[tuple[str, str]]:
    """The export columns of the agency's current profile questions: ``(key, heading)``."""
    return engine.columns(loading.form_spec(agency, CLIENT_PROFILE)[2])


def export_values(client: Client, agency: Any | None = None) -> dict[str, str]:
    """The client's answers as text per export column (answers given under an older version of
    the questions fill the columns they still share with the current one)."""
    row = questions.profile_answers(client)
    if row is None:
        return {}
    return engine.flatten(loading.record_spec(None, row.extension), row.answers)
