"""Saved client lists: create, rename, share, delete, add and remove clients. One transaction each, audited.

A list is private to its owner unless shared with the agency. Whoever sees a list (its owner, or
anyone for a shared one) may add and remove its clients and run batch actions on it; renaming,
sharing and deleting are the owner's, or an administrator's (``agency.manage``) for a shared list
whose owner has gone. A list holds at most ``CASEWORK_BATCH_MAX_CLIENTS`` clients, so a batch can
always run on it whole. Merged profiles are refused by name; clients of another agency never enter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from caseload.audit.actions import Action, record, record_change, record_create, record_delete, snapshot
from caseload.casework.models import ClientList, ClientListEntry
from caseload.casework.records import membership_of
from caseload.casework.selection import agency_clients, max_clients, names_text
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Membership

NAME_MAX = ClientList._meta.get_field("name").max_length
LIST_FIELDS = ("name", "is_shared")


def may_manage(client_list: ClientList, membership: Membership | None) -> bool:
    """Rename, share or delete: the owner; for a shared list, an administrator too."""
    if membership is None:
        return False
    if client_list.owner_id is not None and client_list.owner_id == membership.pk:
        return True
    return client_list.is_shared and membership.has_perm("agency.manage")


def _clean(data: dict[str, Any], current: ClientList | None = None) -> dict[str, Any]:
    values = {name: getattr(current, name) for name in LIST_FIELDS} if current is not None else {"name": "", "is_shared": False}
    values.update({name: data[name] for name in LIST_FIELDS if name in data})
    name = " ".join(str(values.get("name") or "").split())
    if not name:
        raise ValidationError({"name": _("Give the list a name.")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("The name is too long (%(max)s characters at most).") % {"max": NAME_MAX}})
    if "\x00" in name:
        raise ValidationError({"name": _("The name holds a character that cannot be saved.")})
    return {"name": name, "is_shared": bool(values.get("is_shared"))}


def _client_ids(clients: Iterable[Client | int]) -> list[int]:
    return list(dict.fromkeys(c.pk if isinstance(c, Client) else int(c) for c in clients))


@transaction.atomic
def create_list(agency: Agency, actor, data: dict[str, Any], *, clients: Iterable[Client | int] = ()) -> ClientList:
    """A new list owned by the actor (``data``: name, is_shared), with ``clients`` in it if given."""
    values = _clean(data)
    client_list = ClientList.objects.create(agency=agency, owner=membership_of(agency, actor), **values)
    record_create(agency=agency, actor=actor, obj=client_list)
    ids = _client_ids(clients)
    if ids:
        add_clients(client_list, actor, ids)
    return client_list


@transaction.atomic
def update_list(client_list: ClientList, actor, data: dict[str, Any]) -> ClientList:
    """Rename or (un)share a list (``data``: name, is_shared, either or both)."""
    before = snapshot(client_list, LIST_FIELDS)
    for name, value in _clean(data, client_list).items():
        setattr(client_list, name, value)
    client_list.save(update_fields=list(LIST_FIELDS))
    record_change(agency=client_list.agency, actor=actor, obj=client_list, before=before)
    return client_list


@transaction.atomic
def delete_list(client_list: ClientList, actor) -> None:
    """Delete the list (its clients stay as they are: only the list goes)."""
    record_delete(agency=client_list.agency, actor=actor, obj=client_list)
    client_list.delete()


@transaction.atomic
def add_clients(client_list: ClientList, actor, clients: Iterable[Client | int]) -> int:
    """Add clients (instances or ids) to the list; returns how many were new to it.

    Ids that are not clients of the list's agency are left out; merged profiles are refused by name.
    """
    agency = client_list.agency
    found, _ignored = agency_clients(agency, _client_ids(clients))
    merged = [c for c in found if c.status == Client.Status.MERGED]
    if merged:
        raise ValidationError(
            {
                "clients": ngettext(
                    "This profile was merged into another one: %(names)s. Add the profile it was merged into.",
                    "These profiles were merged into others: %(names)s. Add the profiles they were merged into.",
                    len(merged),
                )
                % {"names": names_text(merged)}
            }
        )
    # Locked: two people adding at once cannot take the list past its limit together.
    ClientList.objects.for_agency(agency).select_for_update().filter(pk=client_list.pk).first()
    existing = set(ClientListEntry.objects.for_agency(agency).filter(client_list=client_list).values_list("client_id", flat=True))
    new = [c for c in found if c.pk not in existing]
    if not new:
        return 0
    if len(existing) + len(new) > max_clients():
        raise ValidationError(
            {
                "clients": _("A list holds at most %(max)s clients; this one has %(count)s and %(new)s more were chosen.")
                % {"max": f"{max_clients():,}", "count": f"{len(existing):,}", "new": f"{len(new):,}"}
            }
        )
    ClientListEntry.objects.bulk_create(
        [ClientListEntry(agency=agency, client_list=client_list, client=c) for c in new], batch_size=500, ignore_conflicts=True
    )
    record(
        agency=agency,
        actor=actor,
        action=Action.CHANGE,
        obj=client_list,
        changes={"clients": [len(existing), len(existing) + len(new)], "added": [None, sorted(c.pk for c in new)]},
    )
    return len(new)


@transaction.atomic
def remove_clients(client_list: ClientList, actor, clients: Iterable[Client | int]) -> int:
    """Take clients (instances or ids) off the list; returns how many were on it."""
    agency = client_list.agency
    ids = _client_ids(clients)
    entries = ClientListEntry.objects.for_agency(agency).filter(client_list=client_list)
    before = entries.count()
    gone = sorted(entries.filter(client_id__in=ids).values_list("client_id", flat=True))
    if not gone:
        return 0
    entries.filter(client_id__in=gone).delete()
    record(
        agency=agency,
        actor=actor,
        action=Action.CHANGE,
        obj=client_list,
        changes={"clients": [before, before - len(gone)], "removed": [gone, None]},
    )
    return len(gone)
