"""Registering and changing clients. One transaction each, audited."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.accounts.models import User
from caseload.audit.actions import REDACTED, Action, record, record_change, record_create, record_delete, snapshot
from caseload.clients.matching import normalise_phone, search_fields, search_keys
from caseload.clients.models import (
    Assignment,
    Client,
    ClientPhone,
    ClientSearchKey,
    Enrolment,
    PrivacyConsent,
    PrivacyStatement,
    SafetyFlag,
    validate_cams_number,
)
from caseload.tenancy.models import Agency, Membership, Program


def acting_user(actor):
    """The user to record as having acted, or None when the system acted (commands, tasks, imports)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def next_client_number(agency: Agency) -> int:
    # Serialised by the transaction (IMMEDIATE on SQLite, the unique constraint on PostgreSQL).
    current = Client.objects.for_agency(agency).aggregate(n=Max("client_number"))["n"] or 0
    return current + 1


def refresh_search_fields(client: Client) -> None:
    """Set the folded search columns from the client's names and email; the caller saves.

    Every write that changes a name or the email (register, update, merge, import, bulk seeding) calls this.
    """
    for name, value in search_fields(client.given_name, client.family_name, client.preferred_name, client.email).items():
        setattr(client, name, value)


def _search_key_values(clients: Iterable[Client]) -> list[tuple[int, int, str, int]]:
    """(agency_id, client_id, key, weight) of each search key (matching.search_keys) of saved ``clients``,
    sorted by key (the order of the keys' index within an agency; each key's clients stay in their order).

    A merged profile has none: search never finds it (unmerge gives them back). In index order, an insert
    of thousands of keys fills each page of the index once, instead of reading and writing pages all over
    it for each key in turn (the 150,000 keys of a 10,000-client import: a fifth to a third less time on PostgreSQL).
    """
    values = [
        (client.agency_id, client.pk, key, weight)
        for client in clients
        if client.status != Client.Status.MERGED
        for key, weight in search_keys(client.given_name, client.family_name, client.preferred_name).items()
    ]
    values.sort(key=_KEY)
    return values


_KEY = itemgetter(2)


def insert_search_keys(clients: Iterable[Client], cursor: Any = None) -> int:
    """Insert the search keys of saved ``clients`` (which have none yet); returns how many.

    About fifteen keys a client, so the bulk writers (import, seeding) come here: plain tuples, no model
    instances. PostgreSQL: one INSERT ... SELECT FROM unnest(arrays) per chunk (unnest_insert, through
    ``cursor`` when given: see pipelined); SQLite: one prepared INSERT executed for every row.
    """
    values = _search_key_values(clients)
    if not values:
        return 0
    connection = connections[router.db_for_write(ClientSearchKey)]
    fields = [ClientSearchKey._meta.get_field(name) for name in ("agency", "client", "key", "weight")]
    if connection.vendor == "postgresql":
        for start in range(0, len(values), SEARCH_KEY_BATCH):
            columns = [list(column) for column in zip(*values[start : start + SEARCH_KEY_BATCH], strict=True)]
            unnest_insert(connection, ClientSearchKey, fields, columns, cursor=cursor)
        return len(values)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as sqlite_cursor:
        sql = f"INSERT INTO {quote(ClientSearchKey._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608
        sqlite_cursor.executemany(sql, values)
    return len(values)


# Keys per INSERT on PostgreSQL: in pipeline mode the server writes one batch while the next is sent.
SEARCH_KEY_BATCH = 50_000


def unnest_insert(
    connection, model: type[models.Model], fields: list[models.Field], columns: list[list[Any]], cursor: Any = None
) -> None:
    """PostgreSQL: INSERT one array per column (``columns``, values ready for the database) in one statement.

    ``INSERT ... SELECT FROM unnest(arrays)`` (COPY is refused on tables with row-level security),
    through a cursor that binds the arrays on the server, in binary: Django's cursors bind on the
    client, which quotes every element of every array in Python (most of a large import's time
    went there). The same connection, so the same transaction and row-level-security agency;
    ``cursor``, when given, is one of pipelined's.

    A column holding the same object all the way down (the agency, the creator, a flag, a blank: most of
    an imported client's forty) is bound once, as a value: psycopg dumps an array element by element in
    Python, and those arrays were two fifths of a 10,000-client import's elements. One column stays an
    array, so that the statement makes a row for each of its values.
    """
    import psycopg

    quote = connection.ops.quote_name
    alike = [bool(values) and all(value is values[0] for value in values) for values in columns]
    if all(alike):
        alike[0] = False
    selected, scalars, arrays = [], [], []
    for index, (field, values, same) in enumerate(zip(fields, columns, alike, strict=True)):
        if same:
            selected.append(f"%b::{field.db_type(connection)}")
            scalars.append(values[0])
        else:
            selected.append(f"u.c{index}")
            arrays.append((f"%b::{field.db_type(connection)}[]", f"c{index}", values))
    names = ", ".join(quote(field.column) for field in fields)
    # Table and column names come from the model, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT {', '.join(selected)} "  # noqa: S608
        f"FROM unnest({', '.join(array for array, _alias, _values in arrays)}) "
        f"AS u({', '.join(alias for _array, alias, _values in arrays)})"
    )
    params = [*scalars, *(values for _array, _alias, values in arrays)]
    if cursor is not None:
        cursor.execute(sql, params)
        return
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as own_cursor:
        own_cursor.execute(sql, params)


@contextmanager
def pipelined(connection) -> Iterator[Any]:
    """PostgreSQL: a cursor for unnest_insert whose statements are sent without waiting for each to
    finish (psycopg's pipeline mode), so Python builds the next batch while the server writes the
    last; the block ends when the server has run them all. An error of any of them is raised at the
    end of the block, and the transaction, aborted, is rolled back by its atomic block as ever.

    Run nothing else on the connection inside the block (it would wait for everything sent before).
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor, connection.connection.pipeline():
        yield cursor


def refresh_search_keys(clients: Iterable[Client]) -> None:
    """Replace the search keys of saved ``clients`` (of one agency) with those of their names as they are now.

    Every write that changes a name calls this after saving (register, update, merge, unmerge); the
    bulk writers (import, seeding) call insert_search_keys for their new clients.
    """
    clients = [client for client in clients if client.pk is not None]
    if not clients:
        return
    ClientSearchKey.objects.for_agency(clients[0].agency).filter(client_id__in=[client.pk for client in clients]).delete()
    insert_search_keys(clients)


def clean_phone(raw: str, field: str = "phone") -> str:
    """E.164 form of a phone typed in any format; blank stays blank; raises ValidationError naming ``field``."""
    if not raw or not raw.strip():
        return ""
    normalised = normalise_phone(raw)
    if normalised is None:
        raise ValidationError({field: ValidationError(_("Enter a valid phone number."), code="invalid")})
    return normalised


@transaction.atomic
def register_client(
    *, agency: Agency, actor, data: dict[str, Any], phones: list[dict[str, str]] | None = None, consent: dict[str, Any] | None = None
) -> Client:
    """Register a named or anonymous client (``data["is_anonymous"]``), with its extra phones and its
    answer to the privacy statement, all in one transaction.

    ``phones``: ``[{"number": ..., "kind": ...}]`` beyond the main ``phone``. ``consent``:
    ``{"statement": PrivacyStatement, "accepted": bool, "method": str}``. A named client needs a
    name; one who declined the statement can only be anonymous, and an anonymous client holds
    nothing that identifies them (only ANONYMOUS_FIELDS).
    """
    client = Client(agency=agency, created_by=acting_user(actor), **data)
    _check_anonymity(client, data)
    if consent is not None and not consent["accepted"] and not client.is_anonymous:
        raise ValidationError(
            {"is_anonymous": ValidationError(_("A client who does not accept the privacy statement can only be registered anonymously."), code="invalid")}
        )
    _clean_profile(client)
    new_phones = _clean_phones(agency, phones or [])
    if new_phones and client.is_anonymous:
        raise ValidationError({"phones": ValidationError(_("An anonymous client has no phone numbers."), code="invalid")})
    refresh_search_fields(client)
    client.client_number = next_client_number(agency)
    client.full_clean(exclude=["client_number"])
    client.save()
    refresh_search_keys([client])
    for phone in new_phones:
        phone.client = client
        phone.save()
    extra = {"phones": [None, [p.number for p in new_phones]]} if new_phones else {}
    event = record_create(agency=agency, actor=actor, obj=client, client_id=client.pk)
    if extra:
        event.changes = {**event.changes, **extra}
        event.save(update_fields=["changes"])
    if consent is not None:
        _save_consent(client, actor, consent["statement"], consent["accepted"], consent.get("method") or PrivacyConsent.Method.IN_PERSON)
    return client


# What an anonymous client may hold: only what reporting needs, nothing that identifies them.
ANONYMOUS_FIELDS = ("is_anonymous", "age_range", "gender", "preferred_language", "spoken_languages", "immigration_status", "referral_source")


def _check_anonymity(client: Client, data: dict[str, Any]) -> None:
    if client.is_anonymous:
        identifying = sorted(name for name, value in data.items() if name not in ANONYMOUS_FIELDS and value not in (None, "", [], False))
        if identifying:
            raise ValidationError(
                {name: ValidationError(_("An anonymous client holds nothing that identifies them."), code="invalid") for name in identifying}
            )
    elif not (client.given_name.strip() or client.family_name.strip()):
        raise ValidationError({"given_name": ValidationError(_("Enter a given name or a family name."), code="required")})


def _clean_profile(client: Client) -> None:
    """Normalise the phones and check what the model alone cannot (dates against today and each other)."""
    errors: dict[str, ValidationError] = {}
    for field in ("date_of_birth", "arrival_date"):
        try:
            setattr(client, field, Client._meta.get_field(field).to_python(getattr(client, field)))
        except ValidationError as error:
            errors[field] = error
    for field in ("phone", "emergency_contact_phone"):
        try:
            setattr(client, field, clean_phone(getattr(client, field), field))
        except ValidationError as error:
            errors.update(error.error_dict)
    today = timezone.localdate()
    born, arrived = client.date_of_birth, client.arrival_date
    if born and "date_of_birth" not in errors:
        if born > today:
            errors["date_of_birth"] = ValidationError(_("The date of birth cannot be in the future."), code="invalid")
        elif born.year < today.year - 130:
            errors["date_of_birth"] = ValidationError(_("Enter a date of birth in the last 130 years."), code="invalid")
    if arrived and "arrival_date" not in errors:
        if arrived > today:
            errors["arrival_date"] = ValidationError(_("The arrival date cannot be in the future."), code="invalid")
        elif born and "date_of_birth" not in errors and arrived < born:
            errors["arrival_date"] = ValidationError(_("The arrival date cannot be before the date of birth."), code="invalid")
    if client.consent_email and not client.email and not client.is_anonymous:
        errors["consent_email"] = ValidationError(_("Add an email address to contact the client by email."), code="invalid")
    if client.consent_sms and not client.phone:
        errors["consent_sms"] = ValidationError(_("Add a phone number to contact the client by text message."), code="invalid")
    languages = client.spoken_languages
    if not isinstance(languages, list) or not all(isinstance(code, str) and 0 < len(code) <= 10 for code in languages):
        errors["spoken_languages"] = ValidationError(_("Enter a list of language codes."), code="invalid")
    if errors:
        raise ValidationError(errors)


def _clean_phones(agency: Agency, phones: list[dict[str, str]]) -> list[ClientPhone]:
    """Unsaved ClientPhone rows for the numbers given (blank ones skipped, repeats kept once)."""
    rows: list[ClientPhone] = []
    seen: set[str] = set()
    for phone in phones:
        number = clean_phone(phone.get("number", ""), "phones")
        if not number or number in seen:
            continue
        kind = phone.get("kind") or ClientPhone.Kind.MOBILE
        if kind not in ClientPhone.Kind.values:
            raise ValidationError({"phones": ValidationError(_("Choose a phone type from the list."), code="invalid")})
        seen.add(number)
        rows.append(ClientPhone(agency=agency, number=number, kind=kind))
    return rows


@transaction.atomic
def set_phones(client: Client, actor, phones: list[dict[str, str]]) -> list[ClientPhone]:
    """Replace the client's extra phone numbers; audited as a change of ``phones`` when they differ."""
    before = [(p.number, p.kind) for p in client.phones.all()]
    rows = _clean_phones(client.agency, phones)
    if rows and client.is_anonymous:
        raise ValidationError({"phones": ValidationError(_("An anonymous client has no phone numbers."), code="invalid")})
    after = [(p.number, p.kind) for p in rows]
    if after == before:
        return list(client.phones.all())
    client.phones.all().delete()
    for row in rows:
        row.client = client
        row.save()
    record(
        agency=client.agency, actor=actor, action=Action.CHANGE, obj=client, client_id=client.pk,
        changes={"phones": [[number for number, _kind in before], [number for number, _kind in after]]},
    )
    return rows


@transaction.atomic
def record_consent(client: Client, actor, statement: PrivacyStatement, accepted: bool, method: str = PrivacyConsent.Method.IN_PERSON) -> PrivacyConsent:
    """Record the client's answer to a version of the privacy statement (at registration or later).

    An anonymous client who accepts becomes a named client whose details can then be added.
    """
    consent = _save_consent(client, actor, statement, accepted, method)
    if accepted and client.is_anonymous:
        before = snapshot(client, ["is_anonymous"])
        client.is_anonymous = False
        client.save(update_fields=["is_anonymous"])
        record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    return consent


def _save_consent(client: Client, actor, statement: PrivacyStatement, accepted: bool, method: str) -> PrivacyConsent:
    if statement.agency_id != client.agency_id:
        raise ValidationError({"statement": ValidationError(_("Choose one of your agency's privacy statements."), code="invalid")})
    if method not in PrivacyConsent.Method.values:
        raise ValidationError({"method": ValidationError(_("Choose how the client gave their answer."), code="invalid")})
    consent = PrivacyConsent.objects.create(
        agency=client.agency,
        client=client,
        statement=statement,
        accepted=bool(accepted),
        method=method,
        recorded_by=acting_user(actor),
        recorded_at=timezone.now(),
    )
    record_create(agency=client.agency, actor=actor, obj=consent, client_id=client.pk)
    return consent


@transaction.atomic
def publish_privacy_statement(*, agency: Agency, actor, version: str, text: str, text_fr: str = "") -> PrivacyStatement:
    """Publish a new version of the agency's privacy statement; from now on it is the one clients accept."""
    version, text, text_fr = (version or "").strip(), (text or "").strip(), (text_fr or "").strip()
    if version and PrivacyStatement.objects.for_agency(agency).filter(version__iexact=version).exists():
        raise ValidationError({"version": ValidationError(_("This version is already published. Give the new one another label."), code="unique")})
    statement = PrivacyStatement(
        agency=agency, version=version, text=text, text_fr=text_fr, published_at=timezone.now(),
        created_by=acting_user(actor),
    )
    statement.full_clean()
    statement.save()
    record_create(agency=agency, actor=actor, obj=statement)
    return statement


# What update_client may change; the rest (number, status, search columns) is the actions' own.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "preferred_language",
    "is_anonymous",
    "age_range",
    "spoken_languages",
    "immigration_status",
    "arrival_date",
    "street_address",
    "city",
    "province",
    "postal_code",
    "preferred_contact_method",
    "consent_email",
    "consent_sms",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "referral_source",
    "referral_source_detail",
    "general_notes",
)


@transaction.atomic
def update_client(client: Client, actor, data: dict[str, Any], phones: list[dict[str, str]] | None = None) -> Client:
    """Change the client's details (any of EDITABLE_FIELDS) and, when ``phones`` is given, replace
    the extra phones; the audit event lists the fields that changed.

    A client becomes named only through an accepted privacy statement (record_consent), and an
    anonymous client keeps nothing that identifies them.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"update_client cannot change {sorted(unknown)}")
    was_anonymous = client.is_anonymous
    before = snapshot(client, EDITABLE_FIELDS)
    for name, value in data.items():
        setattr(client, name, value)
    if was_anonymous and not client.is_anonymous and _declined(client):
        raise ValidationError(
            {"is_anonymous": ValidationError(_("Record the client's acceptance of the privacy statement first."), code="invalid")}
        )
    if client.is_anonymous:
        _check_anonymity(client, {name: getattr(client, name) for name in EDITABLE_FIELDS})
    else:
        _check_anonymity(client, data)
    _clean_profile(client)
    refresh_search_fields(client)
    client.full_clean(exclude=["client_number"])
    client.save()
    refresh_search_keys([client])
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    if phones is not None:
        set_phones(client, actor, phones)
    return client


def _declined(client: Client) -> bool:
    """The client's latest answer to the privacy statement is a no."""
    latest = client.consents.order_by("-recorded_at", "-pk").first()
    return latest is not None and not latest.accepted


@transaction.atomic
def _set_status(client: Client, actor, status: str) -> Client:
    before = snapshot(client, ["status"])
    client.status = status
    client.save(update_fields=["status"])
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    return client


def archive_client(client: Client, actor) -> Client:
    """Take the client off the active lists; nothing is deleted. Archiving an archived client changes nothing."""
    return _set_status(client, actor, Client.Status.ARCHIVED)


def unarchive_client(client: Client, actor) -> Client:
    """Bring an archived client back to the active lists."""
    return _set_status(client, actor, Client.Status.ACTIVE)


# --- The profile's Actions menu: staff, safety flag, CaMS, portal account, enrolments ------------
#
# Each action locks the client row first, so two people acting on one client at once take turns.
# An action that does not apply to the client as they are now (removing a flag that is not there,
# resending an invitation after the first log-in) raises NotApplicable: the API answers 409.


class NotApplicable(Exception):
    """The action does not apply to the client as they are now; ``str()`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


def _locked(client: Client) -> Client:
    """The client row, locked for the transaction (PostgreSQL; SQLite's IMMEDIATE transactions serialise writes)."""
    locked = Client.objects.for_agency(client.agency).select_for_update().get(pk=client.pk)
    # The caller's instance stays the one it shows afterwards.
    for field in ("status", "has_safety_flag", "cams_number", "cams_linked_at", "cams_linked_by_id", "portal_user_id", "email"):
        setattr(client, field, getattr(locked, field))
    return client


def staff_name(membership: Membership) -> str:
    return membership.user.full_name or membership.user.email


def _check_staff(client: Client, staff: Membership, field: str = "staff") -> None:
    if staff.agency_id != client.agency_id:
        raise ValidationError({field: _("Choose a staff member of your agency.")})
    if not staff.is_active:
        raise ValidationError({field: _("%(name)s is no longer an active staff member.") % {"name": staff_name(staff)}})


def _assignments(client: Client):
    return Assignment.objects.for_agency(client.agency).filter(client=client).select_related("staff__user")


def _set_primary(assignment: Assignment, actor, primary: bool) -> None:
    before = snapshot(assignment, ["is_primary"])
    assignment.is_primary = primary
    assignment.save(update_fields=["is_primary"])
    record_change(agency=assignment.agency, actor=actor, obj=assignment, before=before, client_id=assignment.client_id)


@transaction.atomic
def assign_staff(client: Client, actor, staff: Membership, *, primary: bool = False, replaces: Membership | None = None) -> Assignment:
    """Assign a staff member to the client (reassign: ``replaces`` comes off in the same step).

    A client has several staff and at most one primary: making someone primary demotes the one
    before; the client's first assignment, or the replacement of the primary, is primary. Naming a
    staff member already assigned with ``primary`` promotes them.
    """
    _locked(client)
    _check_staff(client, staff)
    current = {a.staff_id: a for a in _assignments(client)}
    existing = current.get(staff.pk)
    replaced = None
    if replaces is not None:
        if replaces.pk == staff.pk:
            raise ValidationError({"replaces": _("Choose someone other than the staff member being assigned.")})
        replaced = current.get(replaces.pk)
        if replaced is None:
            raise ValidationError({"replaces": _("%(name)s is not assigned to this client.") % {"name": staff_name(replaces)}})
    if existing is not None and (existing.is_primary or not primary) and replaced is None:
        if existing.is_primary:
            raise ValidationError({"staff": _("%(name)s is already the primary staff member.") % {"name": staff_name(staff)}})
        raise ValidationError({"staff": _("%(name)s is already assigned to this client.") % {"name": staff_name(staff)}})
    if replaced is not None:
        record_delete(agency=client.agency, actor=actor, obj=replaced, client_id=client.pk)
        replaced.delete()
        del current[replaces.pk]
    primary_now = next((a for a in current.values() if a.is_primary), None)
    make_primary = primary or primary_now is None
    if make_primary and primary_now is not None and primary_now.staff_id != staff.pk:
        _set_primary(primary_now, actor, False)
    if existing is not None:
        if make_primary and not existing.is_primary:
            _set_primary(existing, actor, True)
        return existing
    assignment = Assignment(agency=client.agency, client=client, staff=staff, is_primary=make_primary, assigned_by=acting_user(actor))
    assignment.save()
    record_create(agency=client.agency, actor=actor, obj=assignment, client_id=client.pk)
    return assignment


@transaction.atomic
def unassign_staff(client: Client, actor, staff: Membership) -> None:
    """Take a staff member off the client. When they were primary, the longest-assigned of the others becomes primary."""
    _locked(client)
    assignments = list(_assignments(client).order_by("assigned_at", "pk"))
    removed = next((a for a in assignments if a.staff_id == staff.pk), None)
    if removed is None:
        raise ValidationError({"staff": _("%(name)s is not assigned to this client.") % {"name": staff_name(staff)}})
    record_delete(agency=client.agency, actor=actor, obj=removed, client_id=client.pk)
    removed.delete()
    others = [a for a in assignments if a.pk != removed.pk]
    if removed.is_primary and others:
        _set_primary(others[0], actor, True)


def _clean_reason(reason: str, message) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def _set_flag_state(client: Client, actor, flagged: bool) -> None:
    before = snapshot(client, ["has_safety_flag"])
    client.has_safety_flag = flagged
    client.save(update_fields=["has_safety_flag"])
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)


def _flag_repr(client: Client) -> str:
    return str(_("Safety flag on %(client)s") % {"client": client})


def active_safety_flag(client: Client) -> SafetyFlag | None:
    return SafetyFlag.objects.for_agency(client.agency).filter(client=client, removed_at__isnull=True).first()


@transaction.atomic
def flag_client(client: Client, actor, reason: str) -> SafetyFlag:
    """Raise a safety flag: staff see its reason in a banner on every page about the client (never in the portal).

    The reason stays out of the audit log (like a note's text); the event says a reason was given.
    """
    reason = _clean_reason(reason, _("Say why staff should take care with this client."))
    _locked(client)
    if active_safety_flag(client) is not None:
        raise NotApplicable(_("This client already has a safety flag. Remove it first to raise a new one."))
    flag = SafetyFlag.objects.create(agency=client.agency, client=client, reason=reason, raised_by=acting_user(actor), raised_at=timezone.now())
    record(
        agency=client.agency,
        actor=actor,
        action=Action.CREATE,
        obj=flag,
        object_repr=_flag_repr(client),
        changes={"reason": [None, REDACTED]},
        client_id=client.pk,
    )
    _set_flag_state(client, actor, True)
    return flag


@transaction.atomic
def unflag_client(client: Client, actor, reason: str) -> SafetyFlag:
    """Remove the client's safety flag, saying why; the flag stays in the client's history."""
    reason = _clean_reason(reason, _("Say why the safety flag is no longer needed."))
    _locked(client)
    flag = active_safety_flag(client)
    if flag is None:
        raise NotApplicable(_("This client has no safety flag."))
    flag.removed_at = timezone.now()
    flag.removed_by = acting_user(actor)
    flag.removal_reason = reason
    flag.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    record(
        agency=client.agency,
        actor=actor,
        action=Action.CHANGE,
        obj=flag,
        object_repr=_flag_repr(client),
        changes={"removed_at": [None, flag.removed_at.isoformat()], "removal_reason": [None, REDACTED]},
        client_id=client.pk,
    )
    _set_flag_state(client, actor, False)
    return flag


CAMS_FIELDS = ["cams_number", "cams_linked_by", "cams_linked_at"]


@transaction.atomic
def link_cams(client: Client, actor, cams_number: str) -> Client:
    """Link the client to their record in CaMS (Employment Ontario's case management system), saying who did it and when."""
    number = "".join((cams_number or "").split())
    if not number:
        raise ValidationError({"cams_number": _("Enter the client's CaMS reference number.")})
    try:
        validate_cams_number(number)
    except ValidationError as error:
        raise ValidationError({"cams_number": error.messages})
    _locked(client)
    if client.cams_number:
        raise NotApplicable(_("This client is already linked to CaMS record %(number)s. Unlink it first.") % {"number": client.cams_number})
    other = Client.objects.for_agency(client.agency).filter(cams_number=number).exclude(pk=client.pk).first()
    if other is not None:
        raise ValidationError(
            {"cams_number": _("CaMS record %(number)s is already linked to client %(client)s.") % {"number": number, "client": other.client_number}}
        )
    before = snapshot(client, CAMS_FIELDS)
    client.cams_number, client.cams_linked_by, client.cams_linked_at = number, acting_user(actor), timezone.now()
    client.save(update_fields=CAMS_FIELDS)
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    return client


@transaction.atomic
def unlink_cams(client: Client, actor) -> Client:
    _locked(client)
    if not client.cams_number:
        raise NotApplicable(_("This client is not linked to CaMS."))
    before = snapshot(client, CAMS_FIELDS)
    client.cams_number, client.cams_linked_by, client.cams_linked_at = "", None, None
    client.save(update_fields=CAMS_FIELDS)
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    return client


def can_resend_portal_invitation(client: Client) -> bool:
    """An invitation can be sent again until the client first logs in; after that, only a password reset."""
    return client.portal_user is not None and client.portal_user.last_login is None


def _record_portal_email(client: Client, actor, kind: str) -> None:
    record(agency=client.agency, actor=actor, action=Action.SEND, obj=client, changes={"kind": kind}, client_id=client.pk)


@transaction.atomic
def invite_to_portal(client: Client, actor) -> User:
    """Open a portal account for the client's email (no password yet) and email them the invitation, through the outbox."""
    from caseload.accounts.actions import send_portal_invitation

    _locked(client)
    if client.portal_user_id is not None:
        raise NotApplicable(_("This client already has a portal account."))
    email = (client.email or "").strip()
    if not email:
        raise ValidationError({"email": _("Add the client's email address first: the invitation is sent there.")})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("An account with this email address already exists. Use another email address for this client, or ask an administrator.")}
        )
    language = client.preferred_language if client.preferred_language in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE
    user = User.objects.create_user(email=email, full_name=" ".join(p for p in (client.given_name, client.family_name) if p), preferred_language=language)
    record_create(agency=client.agency, actor=actor, obj=user, client_id=client.pk)
    before = snapshot(client, ["portal_user"])
    client.portal_user = user
    client.save(update_fields=["portal_user"])
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    send_portal_invitation(user=user, actor=acting_user(actor), agency=client.agency, client=client)
    _record_portal_email(client, actor, "portal_invitation")
    return user


@transaction.atomic
def resend_portal_invitation(client: Client, actor) -> User:
    from caseload.accounts.actions import send_portal_invitation

    _locked(client)
    if client.portal_user_id is None:
        raise NotApplicable(_("This client has no portal account yet: invite them first."))
    if not can_resend_portal_invitation(client):
        raise NotApplicable(_("This client has already logged in to the portal: send a password reset instead."))
    send_portal_invitation(user=client.portal_user, actor=acting_user(actor), agency=client.agency, client=client)
    _record_portal_email(client, actor, "portal_invitation")
    return client.portal_user


@transaction.atomic
def send_portal_password_reset(client: Client, actor) -> User:
    from caseload.accounts.actions import send_password_reset

    _locked(client)
    if client.portal_user_id is None:
        raise NotApplicable(_("This client has no portal account."))
    send_password_reset(user=client.portal_user, actor=acting_user(actor), agency=client.agency, client=client)
    _record_portal_email(client, actor, "password_reset")
    return client.portal_user


@transaction.atomic
def enrol_client(client: Client, actor, program: Program, start_date: date | None = None) -> Enrolment:
    """Enrol the client in one of the agency's active programs (one open enrolment per program)."""
    if program.agency_id != client.agency_id:
        raise ValidationError({"program": _("Choose one of your agency's programs.")})
    if not program.is_active:
        raise ValidationError({"program": _("%(program)s is no longer active.") % {"program": program.name}})
    _locked(client)
    if Enrolment.objects.for_agency(client.agency).filter(client=client, program=program, end_date__isnull=True).exists():
        raise ValidationError({"program": _("The client is already enrolled in %(program)s.") % {"program": program.name}})
    enrolment = Enrolment(agency=client.agency, client=client, program=program, start_date=start_date or timezone.localdate(), created_by=acting_user(actor))
    enrolment.full_clean()
    enrolment.save()
    record_create(agency=client.agency, actor=actor, obj=enrolment, object_repr=program.name, client_id=client.pk)
    return enrolment


@transaction.atomic
def end_enrolment(enrolment: Enrolment, actor, end_date: date | None = None) -> Enrolment:
    _locked(enrolment.client)
    enrolment.refresh_from_db(fields=["end_date"])
    if enrolment.end_date is not None:
        raise NotApplicable(_("This enrolment has already ended."))
    end_date = end_date or timezone.localdate()
    if end_date < enrolment.start_date:
        raise ValidationError({"end_date": _("The end date cannot be before the start date (%(date)s).") % {"date": enrolment.start_date}})
    before = snapshot(enrolment, ["end_date"])
    enrolment.end_date = end_date
    enrolment.save(update_fields=["end_date"])
    record_change(agency=enrolment.agency, actor=actor, obj=enrolment, before=before, object_repr=enrolment.program.name, client_id=enrolment.client_id)
    return enrolment
