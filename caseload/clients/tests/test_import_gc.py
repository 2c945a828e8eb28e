"""The client import's checking and importing run with Python's cyclic garbage collector paused
(caseload.bulk.gc_paused: it walked the import's tens of thousands of live objects again and again)
and leave it running as they found it, whatever happens."""

from __future__ import annotations

import gc

import pytest
from django.urls import reverse

from caseload.bulk import gc_paused
from caseload.clients import importing
from caseload.clients.models import ClientImport
from caseload.clients.tests.test_import import confirm, csv_upload, latest_import, post_file


@pytest.fixture(autouse=True)
def _collector_running():
    assert gc.isenabled()
    yield
    gc.enable()


def test_it_pauses_the_collector_and_restores_it_even_on_an_error():
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="boom"), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_pause_inside_another_leaves_the_collector_paused_until_the_outer_one_ends():
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_where_the_collector_was_off_it_stays_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.django_db
def test_checking_and_importing_run_with_the_collector_paused_and_leave_it_running(
    client, admin, agency, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    seen = {}
    find_duplicates, insert_search_keys = importing.find_duplicates, importing.insert_search_keys

    def checking(*args, **kwargs):
        seen["check"] = gc.isenabled()
        return find_duplicates(*args, **kwargs)

    def importing_keys(*args, **kwargs):
        seen["import"] = gc.isenabled()
        return insert_search_keys(*args, **kwargs)

    monkeypatch.setattr(importing, "find_duplicates", checking)
    monkeypatch.setattr(importing, "insert_search_keys", importing_keys)
    client.force_login(admin)
    post_file(client, csv_upload([["Amina", "Haddad", "1985-03-12", "", "", "", ""]]), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    assert client_import.status == ClientImport.Status.READY
    confirm(client, client_import, django_capture_on_commit_callbacks)
    assert latest_import(agency).status == ClientImport.Status.DONE
    assert seen == {"check": False, "import": False}
    assert gc.isenabled()
    assert client.get(reverse("clients:import_detail", args=[client_import.pk])).status_code == 200


@pytest.mark.django_db
def test_insert_columns_are_what_each_field_prepares(agency, admin):
    """importing._column hands text through as it is, and anything else to the field: the same values either way."""
    from django.db import connection
    from django.utils.translation import gettext_lazy

    from caseload.clients.models import Client

    plain = Client(agency=agency, created_by=admin, given_name="Amina", family_name="Haddad", email="a@example.org")
    odd = Client(agency=agency, given_name=gettext_lazy("Client"), family_name="", spoken_languages=["ar"], consent_sms=True)
    objs = [plain, odd]
    for field in Client._meta.concrete_fields:
        if field.primary_key or field.name in ("created_at", "updated_at"):
            continue
        expected = [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs]
        got = importing._column(field, objs, connection)
        assert [type(value) for value in got] == [type(value) for value in expected], field.name
        assert [str(value) for value in got] == [str(value) for value in expected], field.name
    # A lazy translation in a text field is not str: it goes through the field, which makes it one.
    assert importing._column(Client._meta.get_field("given_name"), objs, connection) == ["Amina", "Client"]
