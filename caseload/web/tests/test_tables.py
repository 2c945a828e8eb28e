import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from caseload.tenancy import actions as tenancy_actions
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import agency_scope
from caseload.web.tables import Column, Table, table_response

pytestmark = pytest.mark.django_db

NAMES = ["Delta", "Alpha", "Charlie", "Bravo", "Echo"]


@pytest.fixture
def programs(agency):
    with agency_scope(agency):
        for n, name in enumerate(NAMES):
            tenancy_actions.create_object(Program, agency=agency, actor=None, data={"name": name, "code": f"P{5 - n}"})
    return Program.objects.for_agency(agency)


def make_table(programs, query="", per_page=2, **extra):
    request = RequestFactory().get(f"/programs/{query}")
    request.htmx = HtmxDetails(request)
    columns = [
        Column("name", "Name", sort="name", link=lambda p: f"/programs/{p.pk}/"),
        Column("code", "Code", sort="code"),
        Column("description", "Description"),
    ]
    return Table(request, programs, columns=columns, default_sort="name", per_page=per_page, table_id="programs", **extra)


def names(table):
    return [row[0].value for row in table.rows]


def test_it_sorts_by_the_default_column(programs):
    assert names(make_table(programs, per_page=10)) == sorted(NAMES)


def test_it_sorts_by_a_whitelisted_column_descending(programs):
    table = make_table(programs, "?sort=-code", per_page=10)
    assert table.sort == "-code"
    assert [row[1].value for row in table.rows] == ["P5", "P4", "P3", "P2", "P1"]


@pytest.mark.parametrize("sort", ["description", "agency__name", "-password", "name__bogus", "--name", "id"])
def test_it_ignores_sort_keys_that_are_not_sortable_columns(programs, sort):
    table = make_table(programs, f"?sort={sort}", per_page=10)
    assert table.sort == "name"
    assert names(table) == sorted(NAMES)


def test_it_paginates(programs):
    first = make_table(programs)
    assert first.paginator.num_pages == 3
    assert len(first.rows) == 2
    last = make_table(programs, "?page=3")
    assert len(last.rows) == 1
    assert last.next_url is None
    assert last.previous_url == "?page=2"


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99"])
def test_it_shows_a_real_page_for_a_bad_page_number(programs, page):
    table = make_table(programs, f"?page={page}")
    assert 1 <= table.page.number <= 3
    assert table.rows


def test_header_links_keep_filters_and_restart_from_the_first_page(programs):
    table = make_table(programs, "?q=al&page=2&sort=name")
    name_header, code_header, description_header = table.headers
    assert name_header.aria_sort == "ascending"
    assert name_header.url == "?q=al&sort=-name"
    assert code_header.aria_sort == "none"
    assert code_header.url == "?q=al&sort=code"
    assert description_header.url is None
    assert description_header.aria_sort is None
    assert table.next_url == "?q=al&page=3&sort=name"


def test_the_template_renders_sort_state_links_rows_and_pagination(programs):
    table = make_table(programs, "?sort=-name")
    html = render_to_string("web/includes/table.html", {"table": table})
    assert 'aria-sort="descending"' in html
    assert 'hx-get="?sort=name"' in html and 'hx-target="#programs"' in html and 'hx-push-url="true"' in html
    assert 'href="?sort=name"' in html  # works without JavaScript too
    assert f'href="/programs/{programs.get(name="Echo").pk}/"' in html
    assert "1–2 of 5" in html
    assert 'aria-current="page"' in html


def test_an_empty_table_shows_its_empty_state(agency):
    table = make_table(Program.objects.for_agency(agency), empty_title="No programs yet", empty_text="Add your first program.")
    html = render_to_string("web/includes/table.html", {"table": table})
    assert "No programs yet" in html and "Add your first program." in html
    assert "<table" not in html


def test_table_response_answers_htmx_with_the_table_alone(programs, rf):
    request = rf.get("/programs/?sort=code", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="programs")
    request.htmx = HtmxDetails(request)
    table = Table(request, programs, columns=[Column("name", "Name", sort="name")], table_id="programs")
    response = table_response(request, "web/dashboard.html", {}, table)
    html = response.content.decode()
    assert html.strip().startswith('<div class="table-block" id="programs">')
    assert "<html" not in html
