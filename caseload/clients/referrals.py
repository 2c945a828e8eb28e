"""Referring a client out: to another agency on this installation, or to an outside organisation.

A referral to another agency is the one place the client registry crosses agencies. The
sending agency owns its ``Referral``; the receiving agency owns an ``IncomingReferral`` that
holds only what it may see before accepting (a first name and initial, the service, the
reason). Each crossing is an explicit step here, run inside the other agency's scope (so
row-level security still binds on PostgreSQL) and audited on both sides:

- ``refer_to_agency`` writes the receiver's IncomingReferral;
- ``accept_referral`` reads the one referred client in the sender's scope and registers a copy
  of the profile in the receiver's agency;
- ``decline_referral`` and ``withdraw_referral`` tell the other side.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record, record_change, record_create, snapshot
from caseload.clients.actions import ANONYMOUS_FIELDS, EDITABLE_FIELDS, acting_user, register_client
from caseload.clients.models import Client, IncomingReferral, Referral, ReferralSource, ReferralStatus
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope

# The profile fields a receiving agency's copy of the client starts with. Internal notes, how the
# client came to the sender, safety flags, assignments, the CaMS link and the portal account stay
# with the sending agency (the receiver records its own referral source: another service provider).
SHARED_FIELDS = tuple(name for name in EDITABLE_FIELDS if name not in {"referral_source", "referral_source_detail", "general_notes"})


def referral_agencies(agency: Agency):
    """The agencies a client of ``agency`` can be referred to: every other agency on the installation."""
    return Agency.objects.exclude(pk=agency.pk).order_by("name")


def pending_incoming_count(agency: Agency) -> int:
    """How many referrals from other agencies wait for an answer (the badge on the clients list)."""
    return IncomingReferral.objects.for_agency(agency).filter(status=ReferralStatus.PENDING).count()


def client_summary(client: Client) -> str:
    """What the receiving agency sees before accepting: a given name and the family initial."""
    if client.is_anonymous:
        return _("Anonymous client")
    given = client.preferred_name or client.given_name
    initial = f"{client.family_name[:1]}." if client.family_name else ""
    return " ".join(part for part in (given, initial) if part) or _("Unnamed client")


def _check_common(client: Client, reason: str, client_consent: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not client_consent:
        errors["client_consent"] = _("The client must agree to share their information before they are referred.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why the client is referred.")
    if client.status == Client.Status.MERGED:
        raise ValidationError(_("This profile was merged into another one; refer that one."))
    return errors


@transaction.atomic
def refer_to_agency(
    client: Client, actor, *, to_agency: Agency | None, service: str = "", reason: str, client_consent: bool
) -> Referral:
    """Refer the client to another agency; it sees a pending referral (not the profile) until it accepts."""
    errors = _check_common(client, reason, client_consent)
    if to_agency is None:
        errors["to_agency"] = _("Choose the agency the client is referred to.")
    elif to_agency.pk == client.agency_id:
        errors["to_agency"] = _("A client cannot be referred to their own agency.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    referral = Referral.objects.create(
        agency=client.agency,
        client=client,
        kind=Referral.Kind.AGENCY,
        to_agency=to_agency,
        service=service.strip(),
        reason=reason.strip(),
        client_consent=True,
        consent_recorded_by=acting_user(actor),
        consent_recorded_at=now,
        created_by=acting_user(actor),
        created_at=now,
    )
    record_create(agency=client.agency, actor=actor, obj=referral, client_id=client.pk)
    # The explicit crossing: the receiver's row is written as the receiver.
    with agency_scope(to_agency):
        incoming = IncomingReferral.objects.create(
            agency=to_agency,
            from_agency=client.agency,
            source_referral_id=referral.pk,
            client_summary=client_summary(client),
            service=referral.service,
            reason=referral.reason,
            received_at=now,
        )
        record_create(agency=to_agency, actor=actor, obj=incoming)
    return referral


@transaction.atomic
def record_external_referral(
    client: Client, actor, *, organisation: str, contact: str = "", service: str = "", reason: str, client_consent: bool
) -> Referral:
    """Record that the client was referred to an organisation outside Caseload."""
    errors = _check_common(client, reason, client_consent)
    if not (organisation or "").strip():
        errors["organisation"] = _("Name the organisation the client is referred to.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    referral = Referral.objects.create(
        agency=client.agency,
        client=client,
        kind=Referral.Kind.EXTERNAL,
        organisation=organisation.strip(),
        contact=contact.strip(),
        service=service.strip(),
        reason=reason.strip(),
        client_consent=True,
        consent_recorded_by=acting_user(actor),
        consent_recorded_at=now,
        status=ReferralStatus.RECORDED,
        created_by=acting_user(actor),
        created_at=now,
    )
    record_create(agency=client.agency, actor=actor, obj=referral, client_id=client.pk)
    return referral


def _not_pending() -> ValidationError:
    return ValidationError(_("This referral was already answered or withdrawn."))


def _lock_source(incoming: IncomingReferral) -> Referral:
    """The sender's Referral behind ``incoming``, locked; call inside the sender's scope."""
    return (
        Referral.objects.for_agency(incoming.from_agency)
        .select_for_update()
        .select_related("client")
        .get(pk=incoming.source_referral_id)
    )


def _answer_source(referral: Referral, actor, status: str, note: str, now) -> None:
    before = snapshot(referral, ["status", "response_note", "responded_at"])
    referral.status, referral.response_note, referral.responded_at = status, note, now
    referral.save(update_fields=["status", "response_note", "responded_at"])
    record_change(agency=referral.agency, actor=actor, obj=referral, before=before, client_id=referral.client_id)


def _answer(incoming: IncomingReferral, actor, status: str, note: str, now, client: Client | None = None, **extra: Any) -> None:
    before = snapshot(incoming, ["status", "response_note", "responded_by", "responded_at", "client"])
    incoming.status, incoming.response_note, incoming.responded_by, incoming.responded_at = status, note, acting_user(actor), now
    if client is not None:
        incoming.client = client
    incoming.save(update_fields=["status", "response_note", "responded_by", "responded_at", "client"])
    changes = {name: [before[name], value] for name, value in snapshot(incoming, before).items() if before[name] != value}
    record(
        agency=incoming.agency,
        actor=actor,
        action=Action.CHANGE,
        obj=incoming,
        changes={**changes, **extra},
        client_id=client.pk if client else None,
    )


@transaction.atomic
def accept_referral(incoming: IncomingReferral, actor, note: str = "") -> Client:
    """Accept a referral from another agency: the client's profile is copied into the receiving agency."""
    now = timezone.now()
    note = (note or "").strip()
    # The sender's side first (the same lock order as withdraw_referral), limited to this one referral's client.
    with agency_scope(incoming.from_agency):
        referral = _lock_source(incoming)
        if referral.status != ReferralStatus.PENDING:
            raise _not_pending()
        source = referral.client
        shared = [name for name in SHARED_FIELDS if not source.is_anonymous or name in ANONYMOUS_FIELDS]
        data = {name: getattr(source, name) for name in shared}
        provenance = {
            "consent_recorded_by": referral.consent_recorded_by.email if referral.consent_recorded_by else "",
            "consent_recorded_at": referral.consent_recorded_at.isoformat() if referral.consent_recorded_at else "",
            "from_agency": incoming.from_agency.name,
            "source_referral": referral.pk,
        }
        _answer_source(referral, actor, ReferralStatus.ACCEPTED, note, now)
    incoming = IncomingReferral.objects.for_agency(incoming.agency).select_for_update().get(pk=incoming.pk)
    if incoming.status != ReferralStatus.PENDING:
        raise _not_pending()
    data["referral_source"] = ReferralSource.OTHER_AGENCY
    if not data["is_anonymous"]:
        data["referral_source_detail"] = incoming.from_agency.name[:200]
    client = register_client(agency=incoming.agency, actor=actor, data=data)
    _answer(
        incoming,
        actor,
        ReferralStatus.ACCEPTED,
        note,
        now,
        client=client,
        # Where the client's consent to share came from: the sending agency recorded it.
        client_consent=[None, provenance],
    )
    return client


@transaction.atomic
def decline_referral(incoming: IncomingReferral, actor, note: str) -> IncomingReferral:
    """Decline a referral from another agency, saying why; the sender sees the answer."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the referral is declined.")})
    now = timezone.now()
    with agency_scope(incoming.from_agency):
        referral = _lock_source(incoming)
        if referral.status != ReferralStatus.PENDING:
            raise _not_pending()
        _answer_source(referral, actor, ReferralStatus.DECLINED, note, now)
    incoming = IncomingReferral.objects.for_agency(incoming.agency).select_for_update().get(pk=incoming.pk)
    if incoming.status != ReferralStatus.PENDING:
        raise _not_pending()
    _answer(incoming, actor, ReferralStatus.DECLINED, note, now)
    return incoming


@transaction.atomic
def withdraw_referral(referral: Referral, actor) -> Referral:
    """The sender takes back a referral the other agency has not answered yet."""
    referral = Referral.objects.for_agency(referral.agency).select_for_update().get(pk=referral.pk)
    if referral.kind != Referral.Kind.AGENCY or referral.status != ReferralStatus.PENDING:
        raise ValidationError(_("Only a pending referral to another agency can be withdrawn."))
    now = timezone.now()
    _answer_source(referral, actor, ReferralStatus.WITHDRAWN, "", now)
    with agency_scope(referral.to_agency):
        for incoming in (
            IncomingReferral.objects.for_agency(referral.to_agency)
            .select_for_update()
            .filter(from_agency=referral.agency, source_referral_id=referral.pk, status=ReferralStatus.PENDING)
        ):
            _answer(incoming, actor, ReferralStatus.WITHDRAWN, "", now)
    return referral


def incoming_referrals(agency: Agency, limit: int = 200) -> list[IncomingReferral]:
    """The agency's referrals from other agencies: pending ones first, then the newest answered."""
    pending_first = Case(When(status=ReferralStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(
        IncomingReferral.objects.for_agency(agency)
        .select_related("from_agency", "client", "responded_by")
        .annotate(pending_first=pending_first)
        .order_by("pending_first", "-received_at", "-pk")[:limit]
    )
