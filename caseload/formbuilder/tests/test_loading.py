"""Loading, exporting and finding definitions; the management commands."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from caseload.formbuilder import engine, loading
from caseload.formbuilder.models import CLIENT_PROFILE, FormDefinition, FormExtension
from caseload.formbuilder.tests.test_engine import field, spec_with
from caseload.testing.factories import make_agency

pytestmark = pytest.mark.django_db


def sample(version: int = 1, **changes) -> dict:
    return {**spec_with(field("a", "text")), "key": "sample_form", "version": version, **changes}


def test_it_loads_a_definition_and_exports_it_back():
    definition, created = loading.load_definition(sample())
    assert created and definition.name_fr == "Exemple" and definition.is_standard
    exported = loading.export_definition(definition)
    assert exported == sample()
    again, created = loading.load_definition(json.loads(json.dumps(exported)))
    assert (again, created) == (definition, False)


def test_it_refuses_changed_content_for_a_loaded_version():
    loading.load_definition(sample())
    with pytest.raises(engine.DefinitionError) as refused:
        loading.load_definition(sample(fields=[field("b", "text")]))
    assert refused.value.problems == [
        "version 1 of sample_form is already loaded with other content; give the change a new version"
    ]


def test_it_refuses_an_invalid_definition():
    with pytest.raises(engine.DefinitionError):
        loading.load_definition(sample(version=0))
    assert not FormDefinition.objects.filter(key="sample_form").exists()


def test_the_current_definition_is_the_highest_version():
    loading.load_definition(sample(1))
    second, _ = loading.load_definition(sample(2, fields=[field("b", "text")]))
    loading.load_definition(sample(10, fields=[field("c", "text")]))
    assert loading.current_definition("sample_form").version == 10
    assert loading.current_definition("no_such_form") is None
    assert second.fields[0]["key"] == "b"


def test_form_spec_combines_the_current_versions_for_one_agency():
    agency, other = make_agency(), make_agency()
    definition, _ = loading.load_definition(sample())
    FormExtension.objects.create(agency=agency, form_key="sample_form", version=1, fields=[field("agency_x", "text")])
    latest = FormExtension.objects.create(agency=agency, form_key="sample_form", version=2, fields=[field("agency_y", "yesno")])
    found, extension, spec = loading.form_spec(agency, "sample_form")
    assert (found, extension) == (definition, latest)
    assert engine.field_keys(spec) == ["a", "agency_y"]
    assert engine.field_keys(loading.form_spec(other, "sample_form")[2]) == ["a"]
    assert engine.field_keys(loading.record_spec(definition, None)) == ["a"]
    with pytest.raises(FormDefinition.DoesNotExist):
        loading.form_spec(agency, "no_such_form")


def test_the_client_profile_has_only_agency_questions():
    agency = make_agency()
    FormExtension.objects.create(agency=agency, form_key=CLIENT_PROFILE, version=1, fields=[field("agency_x", "text")])
    definition, extension, spec = loading.form_spec(agency, CLIENT_PROFILE)
    assert definition is None and extension.version == 1
    assert engine.validate(spec, {"agency_x": "hi"}) == {"agency_x": "hi"}


def test_the_standard_forms_are_loaded_by_migrate():
    keys = {path.stem for path in loading.standard_files()}
    assert keys <= set(FormDefinition.objects.values_list("key", flat=True))


def test_load_forms_reports_created_and_unchanged(tmp_path):
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(sample()))
    out = io.StringIO()
    call_command("load_forms", str(path), stdout=out)
    call_command("load_forms", str(path), stdout=out)
    assert out.getvalue().splitlines() == ["sample_form v1: created", "sample_form v1: unchanged"]
    assert FormDefinition.objects.get(key="sample_form").is_standard is False
    standard = io.StringIO()
    call_command("load_forms", stdout=standard)
    assert all(line.endswith(": unchanged") for line in standard.getvalue().splitlines())


def test_load_forms_refuses_a_bad_file_by_name(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="broken.json"):
        call_command("load_forms", str(path))


def test_export_form_prints_the_requested_version():
    loading.load_definition(sample(1))
    loading.load_definition(sample(2, fields=[field("b", "text")]))
    out = io.StringIO()
    call_command("export_form", "sample_form", "--version", "1", stdout=out)
    assert json.loads(out.getvalue()) == sample(1)
    out = io.StringIO()
    call_command("export_form", "sample_form", stdout=out)
    assert json.loads(out.getvalue())["version"] == 2
    with pytest.raises(CommandError):
        call_command("export_form", "sample_form", "--version", "3")


def test_a_record_answered_under_version_1_reads_back_after_version_2():
    first, _ = loading.load_definition(sample(1, fields=[field("a", "text"), field("b", "choice", code_list="colours")]))
    loading.load_definition(sample(2, fields=[field("b", "number"), field("c", "text")]))
    answers = engine.validate(loading.record_spec(first, None), {"a": "x", "b": "red"})
    assert [row["text"] for row in engine.display(loading.record_spec(first, None), answers)] == ["x", "Red"]
    current = loading.record_spec(loading.current_definition("sample_form"), None)
    assert [row["text"] for row in engine.display(current, answers)] == ["red", ""]
