"""A send's two writes (the claim; the row marked sent with its audit event): the system context each carries,
the statements a worker prepares once, a batch's records sent with the next claims, and two workers sending the same
messages at once."""

import threading

import pytest
from django.core import mail
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext

from caseload.audit.context import client_ip
from caseload.audit.models import AuditEvent
from caseload.messaging.actions import _literal, _SendWrites, email_message_id, queue_email, send_many, send_one
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.scoping import agency_scope, all_agencies

Status = OutboundMessage.Status
POSTGRESQL = connection.vendor == "postgresql"
postgresql_only = pytest.mark.skipif(not POSTGRESQL, reason="row-level security and prepared statements are PostgreSQL's")
# Queued messages wait: nothing sends them on commit (the tests call send_one themselves).
NO_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _email(agency, n=0):
    return queue_email(agency=agency, to=f"person{n}@example.org", subject="Your appointment", body=f"Thursday at {n}")


def _rls_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('caseload.agency_id', true), '')")
        return cursor.fetchone()[0]


def _rows_seen() -> int:
    """Outbox rows the connection's row-level security lets a raw query see."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messaging_outboundmessage")
        return cursor.fetchone()[0]


def _send_events(messages) -> dict[str, int | None]:
    with all_agencies():
        events = AuditEvent.objects.filter(object_type="messaging.outboundmessage", action="send", object_id__in=[str(m.pk) for m in messages])
        found = [(event.object_id, event.agency_id) for event in events]
    assert len(found) == len({object_id for object_id, _agency in found}), "one event per send"
    return dict(found)


@pytest.mark.django_db
def test_a_send_from_inside_an_agency_scope_reaches_any_message_and_leaves_the_scope_as_it_found_it(agency, other_agency):
    ours, theirs, system = _email(agency, 1), _email(other_agency, 2), _email(None, 3)
    with agency_scope(agency):
        for message in (ours, theirs, system):
            with CaptureQueriesContext(connection) as queries:
                assert send_one(message.pk) == Status.SENT
            if POSTGRESQL:
                # The claim and the record: two round trips, each carrying the system context (no agency loaded).
                assert len(queries) == 2
        if POSTGRESQL:
            # Still this agency's scope, for the rest of the transaction too: the second lock still binds.
            assert _rls_setting() == str(agency.pk)
            assert _rows_seen() == 1
    assert _send_events([ours, theirs, system]) == {str(ours.pk): agency.pk, str(theirs.pk): other_agency.pk, str(system.pk): None}
    assert sorted(email.to[0] for email in mail.outbox) == ["person1@example.org", "person2@example.org", "person3@example.org"]


@pytest.mark.django_db
def test_a_batch_inside_a_transaction_sends_each_message_apart_and_leaves_the_scope_as_it_found_it(agency, other_agency):
    messages = [_email(agency, 1), _email(other_agency, 2), _email(None, 3)]
    with agency_scope(agency):
        with CaptureQueriesContext(connection) as queries:
            assert send_many([message.pk for message in messages]) == [Status.SENT] * 3
        if POSTGRESQL:
            # Unprepared, each write in its own round trip (a record and a claim would share a local setting).
            assert len(queries) == 6
            assert _rls_setting() == str(agency.pk)
            assert _rows_seen() == 1
    assert _send_events(messages) == {str(messages[0].pk): agency.pk, str(messages[1].pk): other_agency.pk, str(messages[2].pk): None}


def _send_a_message_with_quotes_and_percent_signs_from_a_request(agency):
    message = queue_email(agency=agency, to="o'brien%x@example.org", subject="100% sure; it's 'quoted'", body="50%% off")
    token = client_ip.set("203.0.113.9")  # an immediate task backend sends within the request
    try:
        assert send_one(message.pk) == Status.SENT
    finally:
        client_ip.reset(token)
    with all_agencies():
        sent = AuditEvent.objects.get(object_id=str(message.pk), action="send")
        message.refresh_from_db()
    assert (sent.object_repr, sent.ip_address, sent.changes) == ("Email to o'brien%x@example.org", "203.0.113.9", {"status": ["sending", "sent"]})
    assert message.provider_message_id == email_message_id(message)
    [email] = mail.outbox
    assert (email.to, email.subject, email.body) == (["o'brien%x@example.org"], "100% sure; it's 'quoted'", "50%% off")


@pytest.mark.django_db
def test_what_a_send_writes_keeps_quotes_percent_signs_and_the_requests_address(agency):
    _send_a_message_with_quotes_and_percent_signs_from_a_request(agency)


def test_only_plain_words_become_literals():
    assert _literal(Status.QUEUED) == "'queued'"
    with pytest.raises(ValueError):
        _literal("x'; DROP TABLE messaging_outboundmessage; --")


@postgresql_only
@pytest.mark.django_db(transaction=True)
class TestAWorkersConnection:
    """Outside a transaction, as a worker sends: prepared statements, and what happens when the session loses them."""

    @pytest.fixture(autouse=True)
    def _no_tasks(self, settings):
        settings.TASKS = NO_TASKS

    def _prepared(self) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            return {row[0] for row in cursor.fetchall()}

    def test_the_two_statements_are_prepared_once_and_a_send_is_two_round_trips(self, agency, other_agency):
        messages = [_email(agency, 1), _email(other_agency, 2), _email(None, 3), _email(agency, 4)]
        with agency_scope(agency), CaptureQueriesContext(connection) as queries:
            assert [send_one(message.pk) for message in messages] == [Status.SENT] * 4
            assert _rls_setting() == str(agency.pk)
        statements = [query["sql"] for query in queries.captured_queries if "caseload_outbox" in query["sql"]]
        assert len(statements) == 8
        assert [sql.startswith("PREPARE") for sql in statements] == [True, True] + [False] * 6
        assert {"caseload_outbox_claim", "caseload_outbox_sent"} <= self._prepared()
        assert len(_send_events(messages)) == 4

    def test_a_batch_records_each_message_with_the_next_claim_one_round_trip_a_message(self, agency, other_agency):
        messages = [_email(agency, 1), _email(other_agency, 2), _email(None, 3), _email(agency, 4)]
        with agency_scope(agency), CaptureQueriesContext(connection) as queries:
            assert send_many([message.pk for message in messages]) == [Status.SENT] * 4
            assert _rls_setting() == str(agency.pk)
        statements = [query["sql"] for query in queries.captured_queries if "caseload_outbox" in query["sql"]]
        # The first claim; three records each with the next claim; the last record.
        assert len(statements) == 5
        assert [sql.count("EXECUTE caseload_outbox_sent") for sql in statements] == [0, 1, 1, 1, 1]
        assert [sql.count("EXECUTE caseload_outbox_claim") for sql in statements] == [1, 1, 1, 1, 0]
        assert len(_send_events(messages)) == 4
        with all_agencies():
            assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}

    def test_a_record_that_failed_with_the_next_claim_is_written_on_its_own(self, agency, monkeypatch, caplog):
        messages = [_email(agency, n) for n in range(3)]
        run = _SendWrites._run
        failed = []

        def failing_once(self, cursor, steps, read=False):
            if len(steps) == 2 and not failed:
                failed.append(steps)
                raise DatabaseError("the server closed the statement")
            return run(self, cursor, steps, read)

        monkeypatch.setattr(_SendWrites, "_run", failing_once)
        assert send_many([message.pk for message in messages]) == [Status.SENT] * 3
        assert failed and "again apart" in caplog.text
        assert len(mail.outbox) == 3
        assert len(_send_events(messages)) == 3
        with all_agencies():
            assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}

    def test_the_prepared_statements_read_their_row_by_the_primary_key_whatever_the_plan(self, agency):
        """A generic plan (the one PostgreSQL settles on for a statement prepared once and run for every message)
        must not go through the due index: that would read every due message of the queue to find one."""
        message = _email(agency)
        assert send_one(message.pk) == Status.SENT
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, cardinality(parameter_types) FROM pg_prepared_statements WHERE name LIKE 'caseload_outbox_%%'")
            statements = dict(cursor.fetchall())
            plans = {}
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            try:
                for name, count in statements.items():
                    cursor.execute(f"EXPLAIN EXECUTE {name}({', '.join(['NULL'] * count)})")
                    plans[name] = "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("RESET plan_cache_mode")
        assert set(plans) == {"caseload_outbox_claim", "caseload_outbox_sent"}
        for name, plan in plans.items():
            assert "messaging_outboundmessage_pkey" in plan and "outbox_" not in plan.replace(name, ""), plan

    def test_prepared_statements_keep_quotes_percent_signs_and_the_requests_address(self, agency):
        _send_a_message_with_quotes_and_percent_signs_from_a_request(agency)

    def test_a_session_that_lost_its_prepared_statements_still_sends_every_message_once(self, agency, caplog):
        first, second, third = _email(agency, 1), _email(agency, 2), _email(None, 3)
        assert send_one(first.pk) == Status.SENT
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL, or another session behind it, looks like
        assert send_one(second.pk) == Status.SENT
        assert send_one(third.pk) == Status.SENT
        assert send_one(second.pk) == "skipped"
        assert "unprepared" in caplog.text
        assert len(mail.outbox) == 3
        assert len(_send_events([first, second, third])) == 3
        with all_agencies():
            assert set(OutboundMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def _one_by_one(ids: list[int]) -> list[str]:
    return [send_one(pk) for pk in ids]


def _in_batches(ids: list[int]) -> list[str]:
    return [status for start in range(0, len(ids), 7) for status in send_many(ids[start : start + 7])]


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("send", [_one_by_one, _in_batches])
def test_two_workers_sending_the_same_messages_at_once_send_each_exactly_once(agency, settings, send):
    settings.TASKS = NO_TASKS
    messages = [_email(agency if n % 2 else None, n) for n in range(40)]
    outcomes: list[list[str]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(n: int, order: list[OutboundMessage]) -> None:
        try:
            start.wait(10)
            outcomes[n].extend(send([message.pk for message in order]))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    # One worker goes forwards, the other backwards: they meet in the middle, racing for the same rows.
    threads = [threading.Thread(target=worker, args=(0, messages)), threading.Thread(target=worker, args=(1, messages[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(outcomes[0] + outcomes[1]) == sorted([Status.SENT] * 40 + ["skipped"] * 40)
    assert sorted(email.to[0] for email in mail.outbox) == sorted(message.to for message in messages)
    assert len(_send_events(messages)) == 40
