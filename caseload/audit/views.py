"""The audit log page and its CSV export."""

from __future__ import annotations

import csv
import datetime
import functools
import json
import zoneinfo
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from caseload.audit.actions import Action, record
from caseload.audit.forms import AuditFilterForm
from caseload.audit.models import AuditEvent
from caseload.audit.queries import ChangeReader, filter_events, object_type_label
from caseload.tenancy.access import has_perm, perm_required
from caseload.tenancy.models import Agency
from caseload.tenancy.views import admin_tabs
from caseload.web.tables import Column, Table, table_response

EXPORT_CHUNK = 2000
# A cell a spreadsheet would run as a formula starts with one of these: prefix it with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _when(agency: Agency, value: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(value, zoneinfo.ZoneInfo(agency.time_zone)), "SHORT_DATETIME_FORMAT")


def _change_html(old: str | None, new: str | None) -> str:
    if old is None:
        return new or ""
    if new is None:
        return format_html("<del>{}</del>", old)
    return format_html('<del class="muted">{}</del> → {}', old, new)


def _changes_cell(reader: ChangeReader, event: AuditEvent) -> str:
    """One line per changed field: ``field: old → new`` (a creation shows its values, a deletion what was lost)."""
    return format_html_join(
        "",
        '<div class="small"><span class="muted">{}:</span> {}</div>',
        ((field, _change_html(old, new)) for field, old, new in reader.lines(event)),
    )


def _object_cell(event: AuditEvent) -> str:
    if not event.object_type:
        return ""
    label = object_type_label(event.object_type)
    return format_html('{}<div class="small muted">{} #{}</div>', event.object_repr, label, event.object_id)


def _filters(request: HttpRequest) -> tuple[AuditFilterForm, bool]:
    form = AuditFilterForm(request.GET or None, agency=request.agency)
    return form, not form.is_bound or form.is_valid()


@require_safe
@perm_required("audit.view")
def event_list(request: HttpRequest) -> HttpResponse:
    form, valid = _filters(request)
    events = filter_events(request.agency, form.cleaned_data if form.is_bound and valid else {})
    if not valid:
        events = events.none()
    agency = request.agency

    @functools.cache
    def reader() -> ChangeReader:
        # Made when the table renders, for the events of the page shown.
        return ChangeReader(agency, table.page.object_list)

    table = Table(
        request,
        events,
        columns=[
            Column("created_at", _("When"), sort="created_at", value=lambda e: _when(agency, e.created_at)),
            Column("actor", _("User"), sort="actor_label", value=lambda e: (e.actor.full_name or e.actor.email) if e.actor else (e.actor_label or _("System"))),
            Column("action", _("Action"), sort="action", value=lambda e: e.get_action_display()),
            Column("object", _("Object"), sort="object_type", value=_object_cell),
            Column("client_id", _("Client"), sort="client_id", numeric=True),
            Column("changes", _("Changes"), value=lambda e: _changes_cell(reader(), e)),
            Column("ip_address", _("IP address")),
        ],
        default_sort="-created_at",
        per_page=50,
        table_id="audit-events",
        caption=_("Audit events"),
        empty_title=_("No events match these filters") if form.is_bound else _("Nothing recorded yet"),
        empty_text=_("Try a wider date range or fewer filters.") if form.is_bound else "",
        empty_icon="shield",
    )
    filters = form.active_filters()
    context: dict[str, Any] = {
        "form": form,
        "table": table,
        "filtered": bool(filters),
        "admin_tabs": admin_tabs(request),
        "can_export": has_perm(request, "audit.export"),
        "export_url": reverse("audit:export") + (f"?{urlencode(filters)}" if filters else ""),
    }
    return table_response(request, "audit/event_list.html", context, table)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_rows(agency: Agency, events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    tz = zoneinfo.ZoneInfo(agency.time_zone)
    # The byte order mark lets spreadsheet programs read the file as UTF-8 (accents, other scripts).
    yield "\ufeff" + writer.writerow(
        [_("Time"), _("User"), _("User ID"), _("Action"), _("Object type"), _("Object ID"), _("Object"), _("Client ID"), _("Changes"), _("IP address")]
    )
    for event in events:
        yield writer.writerow(
            [
                timezone.localtime(event.created_at, tz).isoformat(),
                _safe(event.actor.email if event.actor else event.actor_label),
                event.actor_id or "",
                event.action,
                event.object_type,
                _safe(event.object_id),
                _safe(event.object_repr),
                event.client_id or "",
                _safe(json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else ""),
                event.ip_address or "",
            ]
        )


@require_safe
@perm_required("audit.export")
def export(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV, streamed; the export itself is recorded first."""
    form, valid = _filters(request)
    if not valid:
        # The list page names the filter at fault.
        response = event_list(request)
        response.status_code = 400
        return response
    filters = form.active_filters()
    events = filter_events(request.agency, form.cleaned_data if form.is_bound else {})
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.EXPORT,
        object_type=AuditEvent._meta.label_lower,
        object_repr="Audit log (CSV)",  # a record, kept in one language whoever exports
        changes={"filters": filters},
    )
    response = StreamingHttpResponse(_csv_rows(request.agency, events.iterator(chunk_size=EXPORT_CHUNK)), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(request.agency.time_zone)).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{request.agency.slug}-{stamp}.csv"'
    return response
