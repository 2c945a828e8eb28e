"""Which clients a batch action or a saved list works on: chosen one by one, every client matching a
filter of the clients list, or a saved list.

Ids always resolve inside the request's agency in one query: an id of another agency (or of no
client) is left out and counted, never written. The clients list's filters resolve exactly as
``clients.views.client_list`` resolves them (``ClientFilterForm`` + ``filter_clients``, and the
same ranked search for the search box), so "all clients matching this filter" means what the user saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from caseload.casework.models import ClientList
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Membership

# A filter's query string longer than this is not one the clients list made.
MAX_FILTER_LENGTH = 2000
# Names shown when a page says who is selected ("Amina Haddad, Marc Tremblay and 135 more").
NAMES_SHOWN = 8


def max_clients() -> int:
    return settings.CASEWORK_BATCH_MAX_CLIENTS


def client_label(client: Client) -> str:
    """How a message names one client: "Amina Haddad (#12)"."""
    return f"{client} (#{client.client_number})"


def names_text(clients: list[Client], shown: int = 5) -> str:
    """ "Amina Haddad (#12), Marc Tremblay (#13) and 3 more"."""
    names = ", ".join(client_label(c) for c in clients[:shown])
    rest = len(clients) - shown
    if rest > 0:
        return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", rest) % {"names": names, "count": rest}
    return names


def too_many_message(count: int) -> str:
    return _(
        "A batch can include at most %(max)s clients; %(count)s are selected. Narrow the selection with a filter, or split it into several lists."
    ) % {
        "max": f"{max_clients():,}",
        "count": f"{count:,}",
    }


def parse_ids(values: Iterable[Any]) -> list[int]:
    """Client ids from form values ("12", or "12,13,14"): whole positive numbers, each once, in order."""
    seen: dict[int, None] = {}
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part.isdigit() and 0 < len(part) < 19:
                seen.setdefault(int(part), None)
    return list(seen)


def agency_clients(agency: Agency, ids: Iterable[int]) -> tuple[list[Client], int]:
    """The clients of ``agency`` among ``ids`` (one query, by name), and how many ids were left out."""
    wanted = set(ids)
    if not wanted:
        return [], 0
    clients = list(
        Client.objects.for_agency(agency)
        .filter(agency=agency, pk__in=wanted)
        .select_related("portal_user")
        .order_by("family_name", "given_name", "pk")
    )
    for client in clients:
        client.agency = agency  # already known: spares every action a query for it
    return clients, len(wanted) - len(clients)


def visible_lists(agency: Agency, membership: Membership | None) -> QuerySet[ClientList]:
    """The saved lists ``membership`` sees: their own and the shared ones."""
    lists = ClientList.objects.for_agency(agency).filter(agency=agency)
    if membership is None:
        return lists.filter(is_shared=True)
    return lists.filter(Q(is_shared=True) | Q(owner=membership))


def list_clients(client_list: ClientList) -> QuerySet[Client]:
    return Client.objects.for_agency(client_list.agency).filter(agency=client_list.agency, list_entries__client_list=client_list)


@dataclass
class Selection:
    """The clients chosen, where they came from, and how to carry the choice to the next step."""

    clients: list[Client]
    source: str
    carry: dict[str, str]
    ignored: int = 0
    total: int = 0
    error: str = ""
    client_list: ClientList | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.total or len(self.clients)

    @property
    def first_names(self) -> list[str]:
        return [client_label(c) for c in self.clients[:NAMES_SHOWN]]

    @property
    def more(self) -> int:
        return max(self.count - NAMES_SHOWN, 0)

    @property
    def merged(self) -> list[Client]:
        return [c for c in self.clients if c.status == Client.Status.MERGED]


def _describe_filter(request, data: QueryDict, form) -> str:
    from caseload.clients.filters import active_filters

    parts = []
    search = data.get("q", "").strip()
    if search:
        parts.append(_("search “%(text)s”") % {"text": search[:60]})
    status = form.values()["status"]
    parts.append(str(Client.Status(status).label).lower())
    parts += [f"{active.label}: {active.value}" for active in active_filters(SimpleNamespace(GET=data), form)]
    return _("Clients list: %(filters)s") % {"filters": "; ".join(parts)}


def from_filter(request, query: str) -> Selection:
    """Every client the clients list shows for ``query`` (its query string): filters, then the search box."""
    from caseload.clients.filters import ClientFilterForm
    from caseload.clients.queries import filter_clients, search_clients
    from caseload.clients.views import MAX_QUERY_LENGTH, SEARCH_LIMIT

    query = query[:MAX_FILTER_LENGTH].lstrip("?")
    data = QueryDict(query)
    form = ClientFilterForm(data, agency=request.agency, membership=request.membership)
    chosen = form.values()
    base = filter_clients(Client.objects.for_agency(request.agency), agency=request.agency, **chosen)
    source = _describe_filter(request, data, form)[:200]
    carry = {"filter": query}
    warnings = [_("A filter was ignored. %(problem)s") % {"problem": problem} for problem in form.problems()]
    search = data.get("q", "").strip()[:MAX_QUERY_LENGTH]
    if search:
        clients = [match.client for match in search_clients(request.agency, search, limit=SEARCH_LIMIT, base=base)]
        for client in clients:
            client.agency = request.agency
        return Selection(clients=clients, source=source, carry=carry, warnings=warnings)
    total = base.count()
    if total > max_clients():
        return Selection(clients=[], source=source, carry=carry, total=total, error=too_many_message(total), warnings=warnings)
    clients = list(base.select_related("portal_user").order_by("family_name", "given_name", "pk"))
    for client in clients:
        client.agency = request.agency
    return Selection(clients=clients, source=source, carry=carry, total=total, warnings=warnings)


def from_ids(request, ids: list[int]) -> Selection:
    carry_source = _("Chosen on the clients list")
    if len(ids) > max_clients():
        return Selection(clients=[], source=carry_source, carry={}, total=len(ids), error=too_many_message(len(ids)))
    clients, ignored = agency_clients(request.agency, ids)
    return Selection(
        clients=clients, source=carry_source, carry={"clients": ",".join(str(c.pk) for c in clients)}, ignored=ignored
    )


def from_list(request, client_list: ClientList) -> Selection:
    source = (_("Saved list: %(name)s") % {"name": client_list.name})[:200]
    carry = {"list": str(client_list.pk)}
    clients = list_clients(client_list)
    total = clients.count()
    if total > max_clients():
        return Selection(
            clients=[], source=source, carry=carry, total=total, error=too_many_message(total), client_list=client_list
        )
    found = list(clients.select_related("portal_user").order_by("family_name", "given_name", "pk"))
    for client in found:
        client.agency = request.agency
    return Selection(clients=found, source=source, carry=carry, total=total, client_list=client_list)


def from_request(request, params: QueryDict) -> Selection | None:
    """The selection named by ``params`` (``list``, ``filter``/``scope=filter``, or ``client``/``clients`` ids);
    None when nothing is selected. A list the member may not see is a 404 (it raises Http404)."""
    from caseload.tenancy.access import get_for_agency

    if params.get("list"):
        client_list = get_for_agency(request, visible_lists(request.agency, request.membership), pk=params["list"])
        return from_list(request, client_list)
    if params.get("scope") == "filter" or (params.get("filter") is not None and params.get("scope") != "selected"):
        return from_filter(request, params.get("filter", ""))
    ids = parse_ids([*params.getlist("client"), *params.getlist("clients")])
    if not ids:
        return None
    return from_ids(request, ids)


def check_clients(clients: list[Client]) -> None:
    """What every batch refuses: no clients, too many, merged profiles (named)."""
    if not clients:
        raise ValidationError({"clients": _("Choose at least one client.")})
    if len(clients) > max_clients():
        raise ValidationError({"clients": too_many_message(len(clients))})
    merged = [c for c in clients if c.status == Client.Status.MERGED]
    if merged:
        raise ValidationError(
            {
                "clients": ngettext(
                    "This profile was merged into another one and can't be given new records: %(names)s. Choose the profile it was merged into.",
                    "These profiles were merged into others and can't be given new records: %(names)s. Choose the profiles they were merged into.",
                    len(merged),
                )
                % {"names": names_text(merged)}
            }
        )
