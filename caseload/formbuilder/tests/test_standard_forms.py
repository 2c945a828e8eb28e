"""Every standard form file is a valid definition named after its key, in English and French."""

from __future__ import annotations

import json

import pytest

from caseload.delivery.catalogue import STANDARD_FORMS
from caseload.formbuilder import engine, loading
from caseload.outcomes.catalogue import OUTCOME_SURVEYS

FILES = loading.standard_files()


def _texts(spec: dict):
    yield spec["name"]
    for field in spec["fields"]:
        yield field["label"]
        for sub in field.get("fields", []):
            yield sub["label"]
        for item in field.get("choices", []):
            yield item["label"]
    for items in spec.get("code_lists", {}).values():
        for item in items:
            yield item["label"]


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_each_standard_file_is_a_valid_definition_named_after_its_key(path):
    spec = json.loads(path.read_text(encoding="utf-8"))
    engine.check_definition(spec)
    assert spec["key"] == path.stem
    for texts in _texts(spec):
        assert texts["en"].strip() and texts["fr"].strip()


# TO COMPLETE: other helpers are writing the standard files; this passes once all 22 exist.
def test_there_is_one_file_for_every_standard_form_in_the_catalogue():
    assert set(STANDARD_FORMS) | set(OUTCOME_SURVEYS) == {path.stem for path in FILES}
