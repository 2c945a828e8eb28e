"""The Outcomes core pages' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

URLs take one ``pk``: a client's (``/clients/<pk>/checkpoints/``), a checkpoint's, a placement's
or a program's (``/admin/agency/follow-up/<pk>/``). The survey pages' entries are in
``sweep_surveys.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency


def a_client(agency: Agency) -> models.Model:
    from caseload.outcomes.tests.helpers import a_client as make

    return make(agency)


def a_placement(agency: Agency) -> models.Model:
    from caseload.outcomes.tests.helpers import a_placement as make

    return make(agency)


def a_checkpoint(agency: Agency) -> models.Model:
    from caseload.outcomes.tests.helpers import a_checkpoint as make

    return make(agency)


def a_program(agency: Agency) -> models.Model:
    import itertools

    from caseload.tenancy.models import Program
    from caseload.tenancy.scoping import agency_scope
    from caseload.tenancy.tests.helpers import make_program

    with agency_scope(agency):
        taken = set(Program.objects.for_agency(agency).values_list("name", flat=True))
        name = next(f"Follow-up program {n}" for n in itertools.count(1) if f"Follow-up program {n}" not in taken)
        return make_program(agency, name)


def _model_factories() -> dict[type[models.Model], Callable[[Agency], models.Model]]:
    from caseload.outcomes.models import Checkpoint, Placement

    return {Checkpoint: a_checkpoint, Placement: a_placement}


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {**_model_factories()}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    "outcomes:client_checkpoints": a_client,
    "outcomes:place": a_client,
    "outcomes:placement_cancel": a_placement,
    "outcomes:checkpoint_detail": a_checkpoint,
    "outcomes:checkpoint_answers": a_checkpoint,
    "outcomes:checkpoint_review": a_checkpoint,
    "outcomes:checkpoint_milestone": a_checkpoint,
    "outcomes:checkpoint_submit": a_checkpoint,
    "outcomes:checkpoint_correct": a_checkpoint,
    "outcomes:checkpoint_attach": a_checkpoint,
    "outcomes:submission_download": a_checkpoint,
    "outcomes:schedule_edit": a_program,
}

SKIPPED: dict[str, str] = {}
