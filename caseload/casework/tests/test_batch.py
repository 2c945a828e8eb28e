"""Batch actions (casework.batch.run_batch): the same record for many clients, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseload.audit.models import AuditEvent
from caseload.casework import notes
from caseload.casework.batch import clients_of, records_of, run_batch
from caseload.casework.models import BatchAction, CaseNote, Communication, SupportiveService, SupportServiceType, Task
from caseload.casework.tests.batch_helpers import (
    DAY,
    a_client,
    a_program,
    count,
    in_scope,
    many_clients,
    membership,
    merge,
    note_data,
)
from caseload.casework.tests.comm_helpers import days, portal_client

pytestmark = pytest.mark.django_db


def batch_note(agency, actor, clients, **data):
    return in_scope(agency, run_batch, agency, actor, "note", clients, note_data(**data), source="test")


class TestFiveHundredClients:
    def test_a_batch_note_for_500_clients_creates_500_notes_in_one_transaction(self, agency, caseworker):
        clients = many_clients(agency, 500)
        with CaptureQueriesContext(connection) as queries:
            batch = batch_note(agency, caseworker, [c.pk for c in clients])
        assert batch.client_count == 500
        assert count(agency, CaseNote, batch=batch) == 500
        assert count(agency, CaseNote) == 500
        assert set(in_scope(agency, lambda: list(records_of(batch).values_list("client_id", flat=True)))) == {
            c.pk for c in clients
        }
        # The clients are fetched once; each note is its insert, its audit event and a savepoint (measured: 4 a client).
        assert len(queries.captured_queries) <= 500 * 4 + 10
        statements = [q["sql"] for q in queries.captured_queries]
        assert sum(sql.lstrip().upper().startswith("SELECT") and "clients_client" in sql for sql in statements) == 1

    def test_nothing_is_written_if_one_of_500_clients_fails_half_way(self, agency, caseworker, monkeypatch):
        clients = many_clients(agency, 500)
        unlucky = clients[400]
        real = notes.create_note

        def create_note(client, actor, data, *, batch=None):
            if client.pk == unlucky.pk:
                raise ValidationError({"program": "This program is closed to new clients."})
            return real(client, actor, data, batch=batch)

        monkeypatch.setattr(notes, "create_note", create_note)
        with pytest.raises(ValidationError) as failure:
            batch_note(agency, caseworker, clients)
        assert list(failure.value.message_dict) == ["program"]
        assert f"#{unlucky.client_number}" in failure.value.message_dict["program"][0]
        assert count(agency, CaseNote) == 0
        assert count(agency, BatchAction) == 0
        assert count(agency, AuditEvent, object_type="casework.casenote") == 0

    def test_a_merged_client_among_500_refuses_the_batch_by_name(self, agency, caseworker):
        clients = many_clients(agency, 500)
        merge(clients[0], clients[499])
        with pytest.raises(ValidationError) as failure:
            batch_note(agency, caseworker, clients)
        message = failure.value.message_dict["clients"][0]
        assert "merged" in message and f"#{clients[499].client_number}" in message
        assert count(agency, CaseNote) == 0
        assert count(agency, BatchAction) == 0


class TestEachKind:
    def test_a_note_batch_gives_every_client_the_same_note_with_the_same_private_flag(self, agency, caseworker):
        program = a_program(agency)
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        batch = batch_note(agency, caseworker, [amina, marc], program=program, is_private=True, note_type="progress")
        rows = in_scope(agency, lambda: list(records_of(batch).select_related("author")))
        assert len(rows) == 2
        assert {r.client_id for r in rows} == {amina.pk, marc.pk}
        assert all(
            r.is_private and r.program_id == program.pk and r.note_type == "progress" and r.contact_date == DAY for r in rows
        )
        assert all(r.author.user_id == caseworker.pk for r in rows)
        assert batch.created_by == membership(agency, caseworker)

    def test_a_communication_batch_records_the_contact_for_every_client(self, agency, caseworker):
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        data = {
            "kind": "phone",
            "direction": "outgoing",
            "date": DAY,
            "subject": "Job fair",
            "body": "Left a message.",
            "program": None,
        }
        batch = in_scope(agency, run_batch, agency, caseworker, "communication", clients, data)
        assert count(agency, Communication, batch=batch, kind="phone", subject="Job fair") == 2

    def test_a_reminder_batch_is_refused_naming_the_clients_without_a_portal_account(self, agency, caseworker):
        ready = portal_client(agency)
        no_portal = a_client(agency, "Marc", "Tremblay")
        data = {
            "kind": "reminder",
            "date": days(agency, 1),
            "subject": "Job fair tomorrow",
            "body": "10 am, room 2.",
            "program": None,
        }
        with pytest.raises(ValidationError) as failure:
            in_scope(agency, run_batch, agency, caseworker, "communication", [ready, no_portal], data)
        [message] = failure.value.message_dict["kind"]
        assert f"#{no_portal.client_number}" in message and f"#{ready.client_number}" not in message
        assert "portal" in message
        assert count(agency, Communication) == 0
        assert count(agency, BatchAction) == 0

    def test_a_task_batch_makes_one_task_per_client(self, agency, caseworker, manager):
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        boss = membership(agency, manager)
        data = {
            "title": "Check the resume",
            "description": "",
            "due_on": DAY,
            "priority": "high",
            "assigned_to": boss,
            "for_client": False,
            "remind_days_before": 1,
            "program": None,
        }
        batch = in_scope(agency, run_batch, agency, caseworker, "task", clients, data)
        tasks = in_scope(agency, lambda: list(Task.objects.for_agency(agency).filter(batch=batch)))
        assert sorted(t.client_id for t in tasks) == sorted(c.pk for c in clients)
        assert all(t.assigned_to_id == boss.pk and t.priority == "high" for t in tasks)

    def test_a_service_batch_records_the_service_for_every_client(self, agency, caseworker):
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        bus = in_scope(agency, lambda: SupportServiceType.objects.for_agency(agency).get(name="Transportation"))
        data = {
            "service_type": bus,
            "date": DAY,
            "amount": Decimal("12.50"),
            "vendor": "City transit",
            "justification": "Job fair",
            "grant": None,
            "program": None,
        }
        batch = in_scope(agency, run_batch, agency, caseworker, "service", clients, data)
        assert count(agency, SupportiveService, batch=batch, amount=Decimal("12.50"), service_type=bus) == 2
        assert in_scope(agency, lambda: set(clients_of(batch).values_list("pk", flat=True))) == {c.pk for c in clients}


class TestWhatIsRefused:
    def test_clients_of_another_agency_are_never_written(self, agency, other_agency, caseworker):
        mine = a_client(agency)
        theirs = a_client(other_agency, "Marc", "Tremblay")
        batch = batch_note(agency, caseworker, [mine.pk, theirs.pk])
        assert batch.client_count == 1
        assert count(agency, CaseNote) == 1
        assert count(other_agency, CaseNote) == 0

    def test_only_clients_of_another_agency_is_no_client_at_all(self, agency, other_agency, caseworker):
        theirs = a_client(other_agency)
        with pytest.raises(ValidationError) as failure:
            batch_note(agency, caseworker, [theirs])
        assert "clients" in failure.value.message_dict
        assert count(other_agency, CaseNote) == 0
        assert count(agency, BatchAction) == 0

    def test_more_clients_than_the_limit_are_refused_with_the_limit_named(self, agency, caseworker, settings):
        settings.CASEWORK_BATCH_MAX_CLIENTS = 3
        clients = many_clients(agency, 4)
        with pytest.raises(ValidationError) as failure:
            batch_note(agency, caseworker, clients)
        assert "at most 3 clients" in failure.value.message_dict["clients"][0]
        assert count(agency, BatchAction) == 0

    def test_a_program_of_another_agency_fails_on_the_program_for_everyone(self, agency, other_agency, caseworker):
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        foreign = a_program(other_agency)
        with pytest.raises(ValidationError) as failure:
            batch_note(agency, caseworker, clients, program=foreign)
        [message] = failure.value.message_dict["program"]
        assert all(f"#{c.client_number}" in message for c in clients)
        assert count(agency, CaseNote) == 0

    def test_an_unknown_kind_is_refused(self, agency, caseworker):
        with pytest.raises(ValidationError) as failure:
            in_scope(agency, run_batch, agency, caseworker, "referral", [a_client(agency)], {})
        assert "kind" in failure.value.message_dict

    def test_the_batch_and_each_note_are_audited_without_the_text(self, agency, caseworker):
        batch = batch_note(agency, caseworker, [a_client(agency), a_client(agency, "Marc", "Tremblay")], body="Secret words")
        events = in_scope(
            agency,
            lambda: list(AuditEvent.objects.for_agency(agency).filter(action="create", object_type__startswith="casework.")),
        )
        assert {e.object_type for e in events} == {"casework.batchaction", "casework.casenote"}
        assert sum(e.object_type == "casework.casenote" for e in events) == 2
        assert all("Secret words" not in str(e.changes) for e in events)
        assert any(e.object_id == str(batch.pk) for e in events)
