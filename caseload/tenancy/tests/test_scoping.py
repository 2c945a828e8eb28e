import pytest
from django.db import connection

from caseload.tenancy import rls
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import ScopeError, agency_scope, all_agencies


@pytest.fixture
def programs(agency, other_agency):
    ours = Program.objects.create(agency=agency, name="Employment Ontario")
    theirs = Program.objects.create(agency=other_agency, name="Settlement")
    return ours, theirs


def test_it_refuses_a_query_with_no_agency_in_scope(programs):
    with pytest.raises(ScopeError):
        list(Program.objects.all())


def test_for_agency_returns_only_that_agencys_rows(programs, agency):
    assert list(Program.objects.for_agency(agency)) == [programs[0]]


def test_an_unfiltered_query_in_scope_sees_only_the_scoped_agency(programs, agency):
    with agency_scope(agency):
        assert list(Program.objects.all()) == [programs[0]]


def test_for_agency_refuses_another_agency_from_inside_a_scope(programs, agency, other_agency):
    with agency_scope(agency), pytest.raises(ScopeError):
        Program.objects.for_agency(other_agency)


def test_all_agencies_sees_every_row(programs):
    with all_agencies():
        assert Program.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level security is PostgreSQL's")
class TestRowLevelSecurity:
    def _as_ordinary_role(self, cursor):
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("DO $$ BEGIN CREATE ROLE caseload_rls_probe NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
            cursor.execute("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO caseload_rls_probe")
            cursor.execute("SET ROLE caseload_rls_probe")

    def test_every_agency_table_has_row_level_security(self, db):
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity")
            protected = {row[0] for row in cursor.fetchall()}
        assert set(rls.agency_tables()) <= protected
        assert "tenancy_program" in protected

    def test_raw_sql_in_a_scope_sees_only_that_agencys_rows(self, programs, agency):
        with agency_scope(agency), connection.cursor() as cursor:
            self._as_ordinary_role(cursor)
            cursor.execute("SELECT name FROM tenancy_program")
            names = [row[0] for row in cursor.fetchall()]
            cursor.execute("RESET ROLE")
        assert names == ["Employment Ontario"]

    def test_raw_sql_in_the_system_context_sees_every_agency(self, programs, agency):
        with all_agencies(), connection.cursor() as cursor:
            self._as_ordinary_role(cursor)
            cursor.execute("SELECT count(*) FROM tenancy_program")
            count = cursor.fetchone()[0]
            cursor.execute("RESET ROLE")
        assert count == 2

    def test_one_connection_follows_the_scope_from_statement_to_statement(self, programs, agency, other_agency):
        seen = []
        with connection.cursor() as cursor:
            for scope in (agency_scope(agency), agency_scope(other_agency), agency_scope(agency)):
                with scope:
                    self._as_ordinary_role(cursor)
                    cursor.execute("SELECT agency_id FROM tenancy_program")
                    seen.append({row[0] for row in cursor.fetchall()})
                    cursor.execute("RESET ROLE")
        assert seen == [{agency.pk}, {other_agency.pk}, {agency.pk}]

    def test_the_policy_reads_the_agency_once_per_statement_not_once_per_row(self, programs, agency):
        with agency_scope(agency), connection.cursor() as cursor:
            self._as_ordinary_role(cursor)
            cursor.execute("EXPLAIN (VERBOSE) SELECT name FROM tenancy_program")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET ROLE")
        filters = [line for line in plan.splitlines() if "Filter:" in line]
        assert "InitPlan" in plan
        assert filters and not any("current_setting" in line for line in filters), plan

    def test_a_write_into_another_agency_is_refused(self, programs, agency, other_agency):
        from django.db import DatabaseError, transaction

        with agency_scope(agency), pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            self._as_ordinary_role(cursor)
            cursor.execute("INSERT INTO tenancy_program (agency_id, name, code, description, is_active) VALUES (%s, 'x', '', '', true)", [other_agency.pk])
