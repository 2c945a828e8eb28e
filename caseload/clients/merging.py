"""Merging two profiles of the same person, and taking a merge back.

A merge moves every row that points at the merged profile onto the kept one. The relations are
found on ``Client``'s model options, not listed here, so the records later apps attach to a
client (sessions, notes, documents...) move with it without a change to this module. What moved,
and both profiles as they were, are kept on the ``Merge`` row, so ``unmerge`` puts each row back
where it was and restores both profiles.

A row that cannot move without breaking a uniqueness rule (the same staff member assigned to
both profiles, an active safety flag on each, an open enrolment in the same program on each)
stays on the merged profile, listed on the Merge row with the rule it would break: nothing is
lost, and unmerge finds it where it was. A second primary assignment is the one conflict
resolved: it moves as a non-primary assignment, and unmerge makes it primary again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record, record_change, record_create, snapshot
from caseload.clients.actions import ANONYMOUS_FIELDS, acting_user, refresh_search_fields, refresh_search_keys
from caseload.clients.models import Client, ClientSearchKey, Merge, SafetyFlag

# Client fields a merge never copies: identity, bookkeeping and what is derived from other rows.
NOT_FILLED = {
    "id",
    "agency",
    "client_number",
    "status",
    "merged_into",
    "created_at",
    "created_by",
    "has_safety_flag",
    "name_folded",
    "name_phonetic",
    "email_folded",
    "is_anonymous",
    "consent_email",
    "consent_sms",
    "cams_linked_at",
    "cams_linked_by",
    "source_import",
}
# Filled together with the field they describe.
COMPANIONS = {"cams_number": ("cams_linked_at", "cams_linked_by")}
# Unique fields: given to the kept profile, they leave the merged one.
UNIQUE_FIELDS = {"portal_user", "cams_number"}
# What an anonymous kept profile may receive: nothing that identifies the person.
ANONYMOUS_FILLABLE = set(ANONYMOUS_FIELDS) - {"is_anonymous"}
# Uniqueness rules a moving row may break that are resolved rather than left: name -> changes.
RESOLVED = {"assignment_one_primary": {"is_primary": False}}


@dataclass(frozen=True)
class Relation:
    model: type[models.Model]
    field: models.ForeignKey

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def client_relations() -> list[Relation]:
    """Every foreign key or one-to-one field, in any app, that points at a Client.

    Hidden relations (``related_name="+"``, many-to-many through tables) included; the Merge
    row's own links and Client.merged_into are the merge's bookkeeping, not client records, and
    search keys are derived from each profile's own names (refresh_search_keys rebuilds them).
    """
    found: dict[tuple[str, str], Relation] = {}
    for rel in Client._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel.many_to_many:
            continue
        model, field = rel.related_model, rel.field
        if model in (Merge, Client, ClientSearchKey):
            continue
        found[(model._meta.label_lower, field.name)] = Relation(model, field)
    return [found[key] for key in sorted(found)]


FILLABLE = [f.name for f in Client._meta.concrete_fields if f.name not in NOT_FILLED]
PROFILE = [f.name for f in Client._meta.concrete_fields if f.name not in {"id", "agency"}]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _profile(client: Client) -> dict[str, Any]:
    return snapshot(client, PROFILE)


def _restore(client: Client, data: dict[str, Any], names) -> None:
    for name in names:
        if name not in data:
            continue
        field = Client._meta.get_field(name)
        value = data[name]
        setattr(client, field.attname, value if field.is_relation or value is None else field.to_python(value))


def _unique_rules(relation: Relation) -> list[tuple[str, tuple[str, ...], Q | None]]:
    """(name, fields, condition) of each uniqueness rule of the relation's model that involves the client field."""
    opts, name = relation.model._meta, relation.field.name
    rules = [
        (c.name, tuple(c.fields), c.condition)
        for c in opts.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields and name in c.fields
    ]
    rules += [("unique_together", tuple(together), None) for together in opts.unique_together if name in together]
    if relation.field.unique:
        rules.append((f"unique_{name}", (name,), None))
    return rules


def _conflicts(relation: Relation, row: models.Model, kept: Client) -> list[str]:
    """The uniqueness rules ``row`` would break on the kept profile."""
    manager = relation.model._base_manager
    broken = []
    for name, fields, condition in _unique_rules(relation):
        if condition is not None and not manager.filter(condition, pk=row.pk).exists():
            continue
        lookup = {}
        for field_name in fields:
            attname = relation.model._meta.get_field(field_name).attname
            lookup[attname] = getattr(row, attname)
        lookup[relation.field.attname] = kept.pk
        same = manager.filter(**lookup).exclude(pk=row.pk)
        if condition is not None:
            same = same.filter(condition)
        if same.exists():
            broken.append(name)
    return broken


def _active_flag(client: Client) -> bool:
    return SafetyFlag.objects.for_agency(client.agency).filter(client=client, removed_at__isnull=True).exists()


def _locked(agency, *pks: int) -> dict[int, Client]:
    return {c.pk: c for c in Client.objects.for_agency(agency).select_for_update().filter(pk__in=pks)}


@transaction.atomic
def merge_clients(kept: Client, merged: Client, actor, reason: str = "") -> Merge:
    """Merge ``merged`` into ``kept``: every record of either ends on ``kept``; ``unmerge`` takes it back."""
    if kept.agency_id != merged.agency_id:
        raise ValidationError({"other": _("Choose a profile of your agency.")})
    if kept.pk == merged.pk:
        raise ValidationError({"other": _("Choose another profile than this one.")})
    agency = kept.agency
    locked = _locked(agency, kept.pk, merged.pk)
    kept, merged = locked[kept.pk], locked[merged.pk]
    if Client.Status.MERGED in (kept.status, merged.status):
        raise ValidationError({"other": _("This profile was already merged into another one.")})
    kept_before, merged_before = _profile(kept), _profile(merged)

    moved: list[dict[str, Any]] = []
    for relation in client_relations():
        rows = relation.model._base_manager.filter(**{relation.field.attname: merged.pk}).order_by("pk")
        for row in rows:
            entry: dict[str, Any] = {"model": relation.label, "field": relation.field.name, "pk": row.pk}
            broken = _conflicts(relation, row, kept)
            unresolved = [name for name in broken if name not in RESOLVED]
            if unresolved:
                moved.append({**entry, "stayed": True, "rule": unresolved[0]})
                continue
            changes: dict[str, Any] = {}
            for name in broken:
                changes.update(RESOLVED[name])
            if changes:
                entry["changed"] = {name: snapshot(row, [name])[name] for name in changes}
            relation.model._base_manager.filter(pk=row.pk).update(**{relation.field.attname: kept.pk}, **changes)
            moved.append(entry)

    # The kept profile's gaps, filled from the merged one.
    fillable = [n for n in FILLABLE if not kept.is_anonymous or n in ANONYMOUS_FILLABLE]
    taken = []
    for name in fillable:
        if _empty(getattr(kept, name)) and not _empty(getattr(merged, name)):
            for companion in (name, *COMPANIONS.get(name, ())):
                setattr(
                    kept, Client._meta.get_field(companion).attname, getattr(merged, Client._meta.get_field(companion).attname)
                )
            if name in UNIQUE_FIELDS:
                taken.append(name)
    for name in taken:
        for companion in (name, *COMPANIONS.get(name, ())):
            setattr(merged, Client._meta.get_field(companion).attname, None if Client._meta.get_field(companion).null else "")
    merged.status, merged.merged_into = Client.Status.MERGED, kept
    merged.has_safety_flag = _active_flag(merged)
    merged.save()
    refresh_search_fields(kept)
    kept.has_safety_flag = _active_flag(kept)
    kept.save()
    # The kept profile may have gained a preferred name; the merged one loses its keys (unmerge gives them back).
    refresh_search_keys([kept, merged])

    merge = Merge.objects.create(
        agency=agency,
        kept=kept,
        merged=merged,
        reason=(reason or "").strip(),
        moved=moved,
        kept_before=kept_before,
        merged_before=merged_before,
        merged_by=acting_user(actor),
        merged_at=timezone.now(),
    )
    record_create(agency=agency, actor=actor, obj=merge, client_id=kept.pk)
    record_create(agency=agency, actor=actor, obj=merge, client_id=merged.pk)
    record_change(agency=agency, actor=actor, obj=kept, before=kept_before, client_id=kept.pk)
    record_change(agency=agency, actor=actor, obj=merged, before=merged_before, client_id=merged.pk)
    return merge


def later_merges(merge: Merge):
    """Merges made after ``merge`` that involve either of its profiles and are not undone."""
    both = [merge.kept_id, merge.merged_id]
    return (
        Merge.objects.for_agency(merge.agency)
        .filter(pk__gt=merge.pk, undone_at__isnull=True)
        .filter(Q(kept_id__in=both) | Q(merged_id__in=both))
    )


@transaction.atomic
def unmerge(merge: Merge, actor) -> Merge:
    """Undo a merge: every moved row goes back to the merged profile, and both profiles are as they were.

    A field the merge filled on the kept profile goes back unless someone changed it since (that
    change is kept); a row deleted since has nothing to go back.
    """
    merge = Merge.objects.for_agency(merge.agency).select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError(_("This merge was already undone."))
    if later_merges(merge).exists():
        raise ValidationError(_("A later merge involves these profiles: undo that one first."))
    locked = _locked(merge.agency, merge.kept_id, merge.merged_id)
    kept, merged = locked[merge.kept_id], locked[merge.merged_id]
    kept_now, merged_now = _profile(kept), _profile(merged)

    for entry in merge.moved:
        if entry.get("stayed"):
            continue
        model = apps.get_model(entry["model"])
        field = model._meta.get_field(entry["field"])
        updates = {field.attname: merged.pk}
        for name, value in entry.get("changed", {}).items():
            updates[model._meta.get_field(name).attname] = value
        # A row deleted since the merge has nothing to go back.
        model._base_manager.filter(pk=entry["pk"], **{field.attname: kept.pk}).update(**updates)

    # The kept profile: each field the merge filled (still as the merge left it) goes back.
    filled = [
        name
        for name in FILLABLE
        if kept_now.get(name) != merge.kept_before.get(name) and kept_now.get(name) == merge.merged_before.get(name)
    ]
    for name in list(filled):
        filled.extend(n for n in COMPANIONS.get(name, ()) if n not in filled)
    _restore(kept, merge.kept_before, filled)
    refresh_search_fields(kept)
    kept.has_safety_flag = _active_flag(kept)
    kept.save()
    _restore(merged, merge.merged_before, PROFILE)
    refresh_search_fields(merged)
    merged.has_safety_flag = _active_flag(merged)
    merged.save()
    refresh_search_keys([kept, merged])

    before = snapshot(merge, ["undone_by", "undone_at"])
    merge.undone_by = acting_user(actor)
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_by", "undone_at"])
    record_change(agency=merge.agency, actor=actor, obj=merge, before=before, client_id=kept.pk)
    record(
        agency=merge.agency,
        actor=actor,
        action=Action.CHANGE,
        obj=merge,
        changes={"undone_at": [None, merge.undone_at.isoformat()]},
        client_id=merged.pk,
    )
    record_change(agency=merge.agency, actor=actor, obj=kept, before=kept_now, client_id=kept.pk)
    record_change(agency=merge.agency, actor=actor, obj=merged, before=merged_now, client_id=merged.pk)
    return merge


def stayed_rows(merge: Merge) -> list[dict[str, Any]]:
    """The records that stayed with the merged profile, each with the model's readable name."""
    rows = []
    for entry in merge.moved:
        if entry.get("stayed"):
            try:
                model = apps.get_model(entry["model"])
            except LookupError:
                continue
            rows.append({**entry, "label": model._meta.verbose_name})
    return rows


def moved_count(merge: Merge) -> int:
    return sum(1 for entry in merge.moved if not entry.get("stayed"))
