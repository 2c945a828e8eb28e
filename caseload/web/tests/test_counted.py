"""counted(): a section's first rows and totals, its rows statement compiled once per shape (rawrows.Template)
and read exactly as the ORM reads it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, connections
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.test.utils import CaptureQueriesContext

from caseload import rawrows
from caseload.casework.models import Task
from caseload.casework.tests import history_helpers as make
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member
from caseload.web import queries
from caseload.web.queries import _sum_when, counted

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)
# An order by an expression with parameters of its own (the dashboard's task urgency).
URGENCY = Case(
    *(When(priority=value, then=Value(rank)) for rank, value in enumerate(reversed(Task.Priority.values))),
    output_field=IntegerField(),
)


@pytest.fixture
def members(agency):
    return make_member(agency, "Caseworker"), make_member(agency, "Caseworker")


@pytest.fixture
def tasks(agency, members):
    """Eight tasks of the first member and three of the second, over four clients and every priority."""
    clients = [make.a_client(agency, "Amina", f"Haddad {n}") for n in range(4)]
    priorities = Task.Priority.values
    made = []
    for n in range(11):
        member = members[0] if n < 8 else members[1]
        made.append(
            make.task(agency, member, client=clients[n % 4], due_on=DAY + dt.timedelta(days=n % 3), priority=priorities[n % 4])
        )
    return made


def _section(agency, member):
    return (
        Task.objects.for_agency(agency)
        .filter(assigned_to=member)
        .select_related("client", "assigned_to__user")
        .order_by("due_on", URGENCY, "pk")
    )


def _as_the_orm_reads_it(queryset, limit):
    rows = list(queryset[:limit])
    totals = queryset.aggregate(total_rows=Count("pk"), early=_sum_when(Q(due_on=DAY)))
    return totals, rows


def test_counted_reads_what_the_orm_reads_and_compiles_its_rows_statement_once_per_shape(agency, members, tasks):
    connections["default"].__dict__.pop("_caseload_templates", None)
    with agency_scope(agency):
        for member, limit in ((members[0], 5), (members[1], 5), (members[0], 3)):
            expected_totals, expected = _as_the_orm_reads_it(_section(agency, member), limit)
            with CaptureQueriesContext(connection) as queries_run:
                counts, rows = counted(_section(agency, member), limit, early=_sum_when(Q(due_on=DAY)))
                # The related objects came with the rows: reading them sends nothing.
                read = [(row.pk, row.client.family_name, row.assigned_to.user.email) for row in rows]
            assert len(queries_run) == 1
            assert [row.pk for row in rows] == [row.pk for row in expected]
            assert read == [(row.pk, row.client.family_name, row.assigned_to.user.email) for row in expected]
            assert counts == expected_totals
            assert [(row.total_rows, row.early) for row in rows] == [(expected_totals["total_rows"], expected_totals["early"])] * len(rows)
    assert counts["total_rows"] == 8 and 0 < counts["early"] < 8
    # Other members, other limits: other parameters in the same statement.
    assert [key[0] for key in connections["default"].__dict__["_caseload_templates"]].count("counted") == 1


def test_counted_of_nothing_is_zero_and_no_rows(agency, members):
    with agency_scope(agency):
        assert counted(_section(agency, members[0]), early=_sum_when(Q(due_on=DAY))) == ({"total_rows": 0, "early": 0}, [])


def test_an_order_that_cannot_be_a_key_is_compiled_for_its_call_alone(agency, members, tasks, monkeypatch):
    monkeypatch.setattr(queries, "make_hashable", lambda select_related: [select_related])  # a list: no key
    connections["default"].__dict__.pop("_caseload_templates", None)
    with agency_scope(agency):
        counts, rows = counted(_section(agency, members[1]))
        expected_totals, expected = _as_the_orm_reads_it(_section(agency, members[1]), 5)
    assert counts == {"total_rows": 3} and [row.pk for row in rows] == [row.pk for row in expected]
    assert "counted" not in [key[0] for key in connections["default"].__dict__.get("_caseload_templates", {})]


def test_a_template_places_each_holes_sql_and_parameters_among_its_own(agency, members, tasks):
    with agency_scope(agency):
        rows = Task.objects.filter(pk__in=rawrows.hole("ids")).order_by(URGENCY, "pk")
        template = rawrows.Template(rows, ["ids"])
        sql, params = template.statement({"ids": ("SELECT id FROM casework_task WHERE title = %s", ["Call back about the interview"])})
        assert "ids" not in sql.split() and sql.count("%s") == len(params)
        # The agency's filter, then the hole's title, then the urgency's priorities and ranks.
        assert params[1:4] == ["Call back about the interview", Task.Priority.values[-1], 0]
        found = template.rows({"ids": ("SELECT id FROM casework_task WHERE assigned_to_id = %s", [members[1].pk])})
        assert [task.pk for task in found] == [task.pk for task in Task.objects.filter(assigned_to=members[1]).order_by(URGENCY, "pk")]


def test_a_template_refuses_what_it_cannot_read_as_the_orm_does(agency):
    with agency_scope(agency):
        with pytest.raises(ValueError):
            rawrows.Template(Task.objects.prefetch_related("client"), ["ids"])
        with pytest.raises(ValueError):
            rawrows.Template(Task.objects.all(), ["ids"])  # no hole in it
    with pytest.raises(ValueError):
        rawrows.hole("ids); DROP TABLE casework_task; --")
