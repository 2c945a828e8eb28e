"""The client import's shortcuts give what the plain ways give: phones read without phonenumbers.parse,
clients and create events built by position, columns prepared once per value, search keys written in
index order, (on PostgreSQL) ids taken from the sequence, a column of one value sent once and INSERTs
sent in pipeline mode, all or nothing; and the duplicate check, its names compared in batches and the
agency's clients read in two hand-written statements, finds what its rules, spelled out plainly, find."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from caseload.audit.actions import Action
from caseload.audit.context import client_ip
from caseload.audit.models import AuditEvent
from caseload.clients import actions, importing, matching
from caseload.clients.models import Client, ClientImport, ClientSearchKey
from caseload.clients.tests.conftest import rolled_back
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
    made = importing._maker(Client, **fixed)
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
@pytest.mark.parametrize("by_user", [True, False])
def test_the_create_events_made_by_position_are_those_made_by_keyword(agency, admin, register, by_user):
    actor = admin if by_user else None
    amina = register(agency, given_name="Amina", family_name="Haddad", date_of_birth="1985-03-12", phone="4165550123")
    prepared = [(amina, "+16135550142"), (register(agency, given_name="Bo"), "")]
    token = client_ip.set("203.0.113.5")
    try:
        events = importing._create_events(agency, actor, prepared)
    finally:
        client_ip.reset(token)
    for event, (client, other) in zip(events, prepared, strict=True):
        by_keyword = AuditEvent(
            agency=agency,
            actor=actor,
            actor_label=actor.email if actor else "",
            action=Action.CREATE,
            object_type="clients.client",
            object_id=str(client.pk),
            object_repr=str(client),
            client_id=client.pk,
            changes={**importing._created_changes(client), **({"phones": [None, [other]]} if other else {})},
            ip_address="203.0.113.5",
        )
        for field in AuditEvent._meta.concrete_fields:
            assert getattr(event, field.attname) == getattr(by_keyword, field.attname), field.name
        assert event._state.adding


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

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="unnest_insert is PostgreSQL's")


class RecordingCursor:
    """Stands for pipelined's cursor: keeps what is sent, runs it on a plain cursor."""

    def __init__(self):
        self.sent = []

    def execute(self, sql, params):
        import psycopg

        self.sent.append((sql, params))
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)


@postgresql_only
@pytest.mark.django_db
def test_a_column_holding_one_value_is_sent_once_and_the_rows_are_the_same(agency, register):
    amina, bo = register(agency, given_name="Amina"), register(agency, given_name="Bo")
    fields = [ClientSearchKey._meta.get_field(name) for name in ("agency", "client", "key", "weight")]
    weight = 1000
    # Only the same object all down a column is sent once: equal values that are other objects are an array.
    columns = [[agency.pk] * 3, [amina.pk, bo.pk, amina.pk], ["k1", "k2", "k3"], [weight, weight, int("1000")]]
    cursor = RecordingCursor()
    with agency_scope(agency):
        ClientSearchKey.objects.for_agency(agency).delete()
        actions.unnest_insert(connection, ClientSearchKey, fields, columns, cursor=cursor)
        ((_sql, params),) = cursor.sent
        assert params == [agency.pk, [amina.pk, bo.pk, amina.pk], ["k1", "k2", "k3"], [1000, 1000, 1000]]
        # Rows alike in every column: one column is still sent whole, one row each.
        alike = [[agency.pk] * 2, [bo.pk] * 2, ["k4"] * 2, [1] * 2]
        actions.unnest_insert(connection, ClientSearchKey, fields, alike, cursor=cursor)
        assert sorted(len(param) if isinstance(param, list) else 0 for param in cursor.sent[1][1]) == [0, 0, 0, 2]
        stored = sorted(ClientSearchKey.objects.for_agency(agency).values_list("agency_id", "client_id", "key", "weight"))
    assert stored == sorted(
        [(agency.pk, amina.pk, "k1", 1000), (agency.pk, bo.pk, "k2", 1000), (agency.pk, amina.pk, "k3", 1000)]
        + [(agency.pk, bo.pk, "k4", 1)] * 2
    )


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


# --- Duplicates ---------------------------------------------------------------------------------

# Names that are near one another (a letter, a sound, a word more or less), so similarities fall on both
# sides of matching.SIMILAR_NAME; accents, apostrophes, hyphens and other scripts for the folding.
SIMILAR_NAMES = [
    "Anna",
    "Ana",
    "Anne",
    "Hanna",
    "Jon",
    "John",
    "Johnson",
    "Mohamed",
    "Muhammad",
    "Lee",
    "Li",
    "Leigh",
    "Smith",
    "Smyth",
    "Nguyễn",
    "Văn An",
    "Côté",
    "Cote",
    "O'Connor",
    "Jean-Luc",
    "李",
    "小龙",
    "",
]
DAYS = [date(1985, 3, 12), date(1985, 3, 13), None]
NUMBERS = ["+14165550123", "+16135550142", "+12045550188", ""]
ADDRESSES = ["amina@example.org", "AMINA@example.org", "bo@example.net", ""]


def similar(probe: list[str], candidate: list[str]) -> bool:
    """The duplicate check's name rule, as matching.name_similarity states it, one pair at a time."""
    return bool(probe and candidate) and matching.name_similarity(probe, candidate)[0] >= matching.SIMILAR_NAME


def rule_matches(people: list, probe, fuzzy_limit: int) -> dict[int, list[str]]:
    """ref -> reasons of every person the three rules find for ``probe``, spelled out plainly: born the same
    day with a similar name (the same folded name when more than ``fuzzy_limit`` people share the day), a
    phone in common, the same email."""
    same_day = [person for person in people if probe.dob and person.dob == probe.dob]
    found = {}
    for person in people:
        reasons = []
        if person in same_day:
            if len(same_day) <= fuzzy_limit:
                alike = similar(probe.tokens, person.tokens)
            else:
                alike = bool(probe.tokens and person.tokens) and sorted(probe.tokens) == sorted(person.tokens)
            if alike:
                reasons.append("dob_name")
        if probe.phones & person.phones:
            reasons.append("phone")
        if probe.email and probe.email == person.email:
            reasons.append("email")
        if reasons:
            found[person.ref] = reasons
    return found


people_drawn = st.lists(
    st.tuples(
        st.lists(st.sampled_from(SIMILAR_NAMES), max_size=3),
        st.sampled_from(DAYS),
        st.sets(st.sampled_from(NUMBERS), max_size=2),
        st.sampled_from(ADDRESSES),
    ),
    min_size=1,
    max_size=12,
)


@given(drawn=people_drawn, fuzzy_limit=st.sampled_from([1, 3, 100]))
# "Anna Smith" is exactly as similar to "Anna Leigh" as a duplicate's name must be (1.0 and 0.6 over two words).
@example(drawn=[(["Anna", "Leigh"], DAYS[0], set(), ""), (["Anna", "Smith"], DAYS[0], set(), "")], fuzzy_limit=100)
def test_the_duplicate_index_finds_what_the_rules_find(drawn, fuzzy_limit):
    people = [
        importing._person(ref, matching.name_tokens(*names), born, numbers, matching.fold_email(email))
        for ref, (names, born, numbers, email) in enumerate(drawn, start=1)
    ]
    *existing, probe = people
    with mock.patch.object(importing, "FUZZY_DOB_LIMIT", fuzzy_limit):
        index = importing._Index(per_key=len(people))
        for person in existing:
            index.add(person)
        assert index.matches(probe) == rule_matches(existing, probe, fuzzy_limit)


def expected_duplicates(agency, rows: list[importing.CleanRow]) -> list[dict]:
    """find_duplicates's entries spelled out plainly from every client of ``agency`` (named, not merged):
    each row's likeliest MATCHES_PER_ROW clients (most reasons first, then the oldest), by id; the
    earliest earlier row the rules find."""
    with agency_scope(agency):
        clients = list(Client.objects.for_agency(agency).filter(is_anonymous=False).exclude(status=Client.Status.MERGED))
        other_phones = {client.pk: set(client.phones.values_list("number", flat=True)) for client in clients}
    clients.sort(key=lambda client: client.pk)
    existing = [
        importing._person(
            client.pk,
            matching.name_tokens(client.given_name, client.family_name, client.preferred_name),
            client.date_of_birth,
            {client.phone, *other_phones[client.pk]},
            matching.fold_email(client.email),
        )
        for client in clients
    ]
    by_pk = {client.pk: client for client in clients}
    file = [importing._row_person(row) for row in rows]
    entries = []
    for position, person in enumerate(file):
        found = rule_matches(existing, person, importing.FUZZY_DOB_LIMIT)
        likeliest = sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))[: importing.MATCHES_PER_ROW]
        for pk, reasons in sorted(likeliest):
            client = by_pk[pk]
            name = " ".join(part for part in (client.given_name, client.family_name) if part)
            numbered = {"client": pk, "client_number": client.client_number, "name": name}
            entries.append({"row": person.ref, "reasons": reasons, **numbered})
        earlier = rule_matches(file[:position], person, importing.FUZZY_DOB_LIMIT)
        if earlier:
            first = min(earlier)
            entries.append({"row": person.ref, "reasons": earlier[first], "same_as_row": first})
    return entries


def cleaned(number: int, names: list[str], born, numbers: set[str], email: str) -> importing.CleanRow:
    given, family = (names + ["", ""])[:2]
    numbers = sorted(numbers)
    return importing.CleanRow(
        row=number,
        data={
            "given_name": given,
            "family_name": family,
            "preferred_name": " ".join(names[2:]),
            "date_of_birth": born,
            "phone": (numbers + [""])[0],
            "email": email,
        },
        other_phone=(numbers + ["", ""])[1],
        errors=[],
    )


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    clients=people_drawn,
    kinds=st.lists(st.sampled_from(["named", "anonymous", "merged", "other agency"]), min_size=12, max_size=12),
    file=people_drawn,
    in_list=st.sampled_from([1, 2, 5000]),
)
def test_the_duplicate_check_finds_what_the_rules_find_among_the_agencys_clients(
    agency, other_agency, clients, kinds, file, in_list
):
    rows = [cleaned(number, *person) for number, person in enumerate(file, start=2)]
    with rolled_back(), mock.patch.object(importing, "_in_list_size", lambda: in_list):
        for (names, born, numbers, email), kind in zip(clients, kinds, strict=False):
            owner = other_agency if kind == "other agency" else agency
            given, family = (names + ["", ""])[:2]
            main, *extra = sorted(numbers) or [""]
            with agency_scope(owner):
                client = actions.register_client(
                    agency=owner,
                    actor=None,
                    data={
                        "given_name": given or "X",
                        "family_name": family,
                        "preferred_name": " ".join(names[2:]),
                        "date_of_birth": born,
                        "phone": main,
                        "email": email,
                    },
                    phones=[{"number": number, "kind": "other"} for number in extra],
                )
                changed = {"anonymous": {"is_anonymous": True}, "merged": {"status": Client.Status.MERGED}}.get(kind, {})
                Client.objects.for_agency(owner).filter(pk=client.pk).update(**changed)
        with agency_scope(agency):
            assert importing.find_duplicates(agency, rows) == expected_duplicates(agency, rows)


@pytest.mark.django_db
def test_search_keys_are_held_to_their_client_by_the_database_and_not_to_the_agency_again():
    """A key's agency is its client's, which the client's own constraint holds: the database checks the client
    (and deletes the keys with it), not the agency once more for each of a client's keys at every import's commit."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ClientSearchKey._meta.db_table)
    foreign = {tuple(each["columns"]): each["foreign_key"] for each in constraints.values() if each["foreign_key"]}
    assert foreign == {("client_id",): (Client._meta.db_table, "id")}
