"""The client import's shortcuts give what the plain ways give: phones read without phonenumbers.parse,
clients built by position, columns prepared once per value, search keys written in index order, and
(on PostgreSQL) ids taken from the sequence and INSERTs sent in pipeline mode, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from caseload.audit.models import AuditEvent
from caseload.clients import actions, importing
from caseload.clients.models import Client, ClientImport, ClientSearchKey
from caseload.clients.tests.test_import import clients_of, confirm, csv_upload, latest_import, post_file
from caseload.tenancy.scoping import agency_scope

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
HEADER = ["given_name", "family_name", "date_of_birth", "email", "phone", "other_phone"]


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings):
    settings.TASKS = IMMEDIATE_TASKS


def clean_phone_or_none(value: str) -> str | None:
    try:
        return actions.clean_phone(value)
    except ValidationError:
        return None


DIGITS = st.text(alphabet="0123456789", min_size=10, max_size=10)
LAYOUTS = st.sampled_from(
    ["{a}-{e}-{l}", "({a}) {e}-{l}", "({a}){e}{l}", "{a}.{e}.{l}", "{a} {e} {l}", "{a}{e}{l}", "({a} {e}-{l}"]
)


# --- Phones -------------------------------------------------------------------------------------


@given(digits=DIGITS, layout=LAYOUTS)
def test_a_north_american_number_reads_as_clean_phone_reads_it(digits, layout):
    typed = layout.format(a=digits[:3], e=digits[3:6], l=digits[6:])
    assert importing.phone_of(typed) == clean_phone_or_none(typed)


@given(typed=st.text(alphabet="0123456789 ()+-.x#ext", max_size=20))
def test_any_other_phone_reads_as_clean_phone_reads_it(typed):
    assert importing.phone_of(typed) == clean_phone_or_none(typed)


def test_a_plain_canadian_number_is_read_without_phonenumbers_parse(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(importing.phonenumbers, "parse", refused)
    assert importing.phone_of("(416) 555-0123") == "+14165550123"
    assert importing.phone_of("613.555.0142") == "+16135550142"


def test_a_phone_repeated_down_the_file_is_read_once_and_reported_on_every_row(monkeypatch):
    calls = []
    phone_of = importing.phone_of
    monkeypatch.setattr(importing, "phone_of", lambda value: (calls.append(value), phone_of(value))[1])
    cleaner = importing.RowCleaner()
    rows = [
        cleaner.clean({"_row": number, "given_name": "A", "phone": phone, "other_phone": other})
        for number, (phone, other) in enumerate([("416-555-0123", "123"), ("416-555-0123", "123"), ("123", "")], start=2)
    ]
    assert [row.data["phone"] for row in rows] == ["+14165550123", "+14165550123", ""]
    assert [(error["row"], error["field"]) for row in rows for error in row.errors] == [
        (2, "other_phone"),
        (3, "other_phone"),
        (4, "phone"),
    ]
    assert sorted(calls) == ["", "123", "416-555-0123"]


# --- Building and preparing ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_client_made_by_position_is_the_client_made_by_keyword(agency, admin):
    cleaner = importing.RowCleaner()
    data = cleaner.clean(
        {"_row": 2, "given_name": "Amina", "family_name": "Haddad", "date_of_birth": "1985-03-12", "spoken_languages": "ar; en"}
    ).data
    fixed = {"agency_id": agency.pk, "created_by_id": admin.pk, "source_import_id": None}
    made = importing._client_maker(**fixed)
    by_position, by_keyword = made(data), Client(**fixed, **data)
    for field in Client._meta.concrete_fields:
        assert getattr(by_position, field.attname) == getattr(by_keyword, field.attname), field.name
    assert by_position._state.adding and by_position._state.db is None
    # A default made by calling (spoken languages: a list) is made for each client, never shared.
    bare = {key: value for key, value in data.items() if key != "spoken_languages"}
    first, second = made(bare), made(bare)
    assert first.spoken_languages == [] and first.spoken_languages is not second.spoken_languages
    # A key that is no field's column goes by keyword, which refuses it.
    with pytest.raises(TypeError, match="unexpected keyword"):
        made({**data, "nickname": "Mina"})


@pytest.mark.django_db
def test_values_that_repeat_down_a_column_are_prepared_once_and_alike(agency, admin, monkeypatch):
    clients = [
        Client(agency=agency, created_by=admin, given_name=f"G{n}", date_of_birth=date(1985, 3, 12), consent_sms=bool(n % 2))
        for n in range(4)
    ]
    field = Client._meta.get_field("created_by")
    expected = [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in clients]
    calls = []
    prepare = type(field).get_db_prep_save
    monkeypatch.setattr(
        type(field), "get_db_prep_save", lambda self, value, conn: (calls.append(value), prepare(self, value, conn))[1]
    )
    assert importing._column(field, clients, connection) == expected
    assert calls == [admin.pk]
    monkeypatch.undo()
    for name in ("date_of_birth", "consent_sms", "agency"):
        field = Client._meta.get_field(name)
        got = importing._column(field, clients, connection)
        assert got == [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in clients], name


@pytest.mark.django_db
def test_search_keys_are_written_in_the_order_of_their_index(agency, register):
    clients = [register(agency, given_name=name, family_name="Haddad") for name in ("Zoe", "Amina", "Marc")]
    values = actions._search_key_values(clients)
    assert [value[2] for value in values] == sorted(value[2] for value in values)
    # Each key's clients stay in the order given.
    haddad = [value[1] for value in values if value[2] == "haddad"]
    assert haddad == [client.pk for client in clients]
    with agency_scope(agency):
        stored = set(ClientSearchKey.objects.for_agency(agency).values_list("agency_id", "client_id", "key", "weight"))
    assert stored == set(values)


# --- Writing ------------------------------------------------------------------------------------

ROWS = [
    ["Amina", "Haddad", "1985-03-12", "amina@example.org", "416-555-0123", "613-555-0142"],
    ["François", "Côté", "1979-11-02", "", "(613) 555 0199", ""],
    ["Nguyễn", "Văn An", "", "an.nguyen@example.net", "", ""],
]


@pytest.mark.django_db
def test_clients_registered_after_an_import_get_new_ids_and_the_next_numbers(
    client, admin, agency, register, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, csv_upload(ROWS, header=HEADER), django_capture_on_commit_callbacks)
    confirm(client, latest_import(agency), django_capture_on_commit_callbacks)
    imported = clients_of(agency)
    later = register(agency, given_name="Later", family_name="Client")
    assert later.pk > max(c.pk for c in imported)
    assert [c.client_number for c in clients_of(agency)] == [1, 2, 3, 4]
    with agency_scope(agency):
        # Each imported client's phone, keys and create event point at it.
        amina = Client.objects.for_agency(agency).get(given_name="Amina")
        assert list(amina.phones.values_list("number", flat=True)) == ["+16135550142"]
        assert ClientSearchKey.objects.for_agency(agency).filter(client=amina, key="amina").exists()
        event = AuditEvent.objects.for_agency(agency).get(object_type="clients.client", client_id=amina.pk)
        assert event.object_id == str(amina.pk) and event.changes["given_name"] == [None, "Amina"]


@pytest.mark.django_db
def test_a_client_number_taken_meanwhile_fails_the_import_writes_nothing_and_it_runs_again(
    client, admin, agency, register, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, csv_upload(ROWS, header=HEADER), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    taken = register(agency, given_name="Registered", family_name="Meanwhile")
    # As if another registration had read the same last number a moment earlier.
    monkeypatch.setattr(importing, "next_client_number", lambda agency: taken.client_number)
    confirm(client, client_import, django_capture_on_commit_callbacks)

    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.FAILED
    assert "unexpected error" in client_import.failure
    assert [c.pk for c in clients_of(agency)] == [taken.pk]
    with agency_scope(agency):
        assert not ClientSearchKey.objects.for_agency(agency).exclude(client=taken).exists()
        assert AuditEvent.objects.for_agency(agency).filter(object_type="clients.client").count() == 1

    monkeypatch.undo()
    confirm(client, client_import, django_capture_on_commit_callbacks)
    client_import.refresh_from_db()
    assert (client_import.status, len(clients_of(agency))) == (ClientImport.Status.DONE, 4)


@pytest.mark.django_db
def test_starting_a_large_import_leaves_its_rows_to_the_task(
    agency, admin, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(importing, "INLINE_ROWS", 2)
    with agency_scope(agency):
        with django_capture_on_commit_callbacks(execute=True):
            client_import, _parsed = importing.create_import(agency=agency, actor=admin, upload=csv_upload(ROWS, header=HEADER))
        client_import = ClientImport.objects.for_agency(agency).get(pk=client_import.pk)
        assert client_import.status == ClientImport.Status.READY
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        with CaptureQueriesContext(connection) as queries:
            importing.start_import(client_import, admin, skip_duplicates=True)
    assert client_import.status == ClientImport.Status.IMPORTING
    assert not [query["sql"] for query in queries if '"clients_clientimport"."rows"' in query["sql"]]
