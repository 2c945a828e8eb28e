"""Sortable, paginated tables for list pages, rendered by web/includes/table.html.

    table = Table(
        request,
        Program.objects.for_agency(request.agency),
        columns=[
            Column("name", _("Name"), sort="name", link=lambda p: reverse("tenancy:program", args=[p.pk])),
            Column("code", _("Code"), sort="code"),
            Column("is_active", _("Status"), value=lambda p: status_badge(p)),
        ],
        default_sort="name",
    )
    return table_response(request, "tenancy/programs.html", {"table": table}, table)

``?sort=`` takes a column's key (``-key`` for descending); keys that are not sortable columns are
ignored, so the URL never reaches arbitrary ORM lookups. ``?page=`` is read with
``Paginator.get_page`` (a bad or out-of-range page shows the nearest real one). Other query
parameters (filters, search) are kept in every sort and page link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

SORT_PARAM = "sort"
PAGE_PARAM = "page"


@dataclass(frozen=True)
class Column:
    """One column. ``key`` names the column in ``?sort=`` and is the attribute path shown by default
    (dots follow relations: ``"role.name"``; a callable attribute is called, so
    ``"get_status_display"`` works). ``sort`` is the ORM ordering (a field or a tuple of fields) that
    makes the column sortable; ``value(row)`` overrides what the cell shows (return ``format_html``
    output for markup such as badges); ``link(row)`` makes the cell a link."""

    key: str
    label: Any
    sort: str | Sequence[str] | None = None
    link: Callable[[Any], str | None] | None = None
    value: Callable[[Any], Any] | None = None
    numeric: bool = False

    @property
    def sortable(self) -> bool:
        return bool(self.sort)

    def sort_fields(self, descending: bool) -> list[str]:
        fields = [self.sort] if isinstance(self.sort, str) else list(self.sort or [])
        return [f"-{name}" if descending else name for name in fields]

    def cell_value(self, row: Any) -> Any:
        if self.value is not None:
            return self.value(row)
        value: Any = row
        for part in self.key.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value() if callable(value) else value


@dataclass(frozen=True)
class Cell:
    column: Column
    value: Any
    link: str | None


@dataclass(frozen=True)
class Header:
    column: Column
    url: str | None
    aria_sort: str | None
    direction: str | None  # "asc", "desc" or None when the table is not sorted by this column

    @property
    def label(self) -> Any:
        return self.column.label

    @property
    def key(self) -> str:
        return self.column.key


class Table:
    def __init__(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        columns: Sequence[Column],
        default_sort: str = "",
        per_page: int = 25,
        table_id: str = "table",
        caption: Any = "",
        empty_title: Any = None,
        empty_text: Any = "",
        empty_icon: str = "inbox",
    ) -> None:
        self.request = request
        self.columns = list(columns)
        self.id = table_id
        self.caption = caption
        self.empty_title = empty_title or _("Nothing here yet")
        self.empty_text = empty_text
        self.empty_icon = empty_icon
        self._by_key = {column.key: column for column in self.columns if column.sortable}

        self.sort_key, self.descending = self._parse_sort(request.GET.get(SORT_PARAM, ""))
        if self.sort_key is None:
            self.sort_key, self.descending = self._parse_sort(default_sort)
        ordering = self._by_key[self.sort_key].sort_fields(self.descending) if self.sort_key else []
        # The primary key last keeps pages stable when sort values repeat.
        queryset = queryset.order_by(*ordering, "-pk" if self.descending else "pk")

        self.paginator = Paginator(queryset, per_page)
        self.page: Page = self.paginator.get_page(request.GET.get(PAGE_PARAM))

    def _parse_sort(self, value: str) -> tuple[str | None, bool]:
        descending = value.startswith("-")
        key = value[1:] if descending else value
        if key in self._by_key:
            return key, descending
        return None, False

    @property
    def sort(self) -> str:
        """The effective ``?sort=`` value, e.g. ``"-name"``."""
        if not self.sort_key:
            return ""
        return f"-{self.sort_key}" if self.descending else self.sort_key

    def url(self, **changes: Any) -> str:
        """This page's query string with some parameters changed (``None`` removes one)."""
        query: QueryDict = self.request.GET.copy()
        for name, value in changes.items():
            if value is None or value == "":
                query.pop(name, None)
            else:
                query[name] = str(value)
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else self.request.path

    @cached_property
    def headers(self) -> list[Header]:
        headers = []
        for column in self.columns:
            if not column.sortable:
                headers.append(Header(column, None, None, None))
                continue
            current = column.key == self.sort_key
            next_sort = column.key if not current or self.descending else f"-{column.key}"
            direction = ("desc" if self.descending else "asc") if current else None
            aria_sort = {"asc": "ascending", "desc": "descending"}.get(direction or "", "none")
            # Sorting again starts from the first page.
            headers.append(Header(column, self.url(**{SORT_PARAM: next_sort, PAGE_PARAM: None}), aria_sort, direction))
        return headers

    @cached_property
    def rows(self) -> list[list[Cell]]:
        return [
            [Cell(column, column.cell_value(row), column.link(row) if column.link else None) for column in self.columns]
            for row in self.page.object_list
        ]

    @cached_property
    def page_links(self) -> list[dict[str, Any]]:
        """Numbered links around the current page, with ellipses (``number`` is None) between."""
        links = []
        for number in self.paginator.get_elided_page_range(self.page.number, on_each_side=1, on_ends=1):
            if number == Paginator.ELLIPSIS:
                links.append({"number": None, "url": None, "current": False})
            else:
                links.append({"number": number, "url": self.url(**{PAGE_PARAM: number}), "current": number == self.page.number})
        return links

    @property
    def previous_url(self) -> str | None:
        return self.url(**{PAGE_PARAM: self.page.previous_page_number()}) if self.page.has_previous() else None

    @property
    def next_url(self) -> str | None:
        return self.url(**{PAGE_PARAM: self.page.next_page_number()}) if self.page.has_next() else None


def is_table_request(request: HttpRequest, table: Table) -> bool:
    """An htmx request aimed at this table (sorting or paging): answer with the table alone."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == table.id


def table_response(request: HttpRequest, template_name: str, context: dict[str, Any], table: Table) -> HttpResponse:
    """The full page, or only the table's fragment when htmx sorts or pages it."""
    if is_table_request(request, table):
        return render(request, "web/includes/table.html", {**context, "table": table})
    return render(request, template_name, context)
