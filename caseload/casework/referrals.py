"""Service referrals: the client referred to another program of the agency, or to a service of its directory.

(Referrals between agencies on Caseload are another thing: ``caseload.clients.referrals``.)

Status: sent → accepted or declined; accepted → completed or no-show; sent or accepted →
cancelled. Any other move is a ValidationError on ``status``. One function per use case, one
transaction each, audited; the reason and the outcome may say anything about the client, so
their values never enter the audit log (that they changed does).

Reminders (``send_referral_reminders``, every 15 minutes through the ``casework.referral_reminders``
job): on and after the follow-up date, for a referral still sent or accepted, an email to the
staff member who made it, once; and, when ``remind_client`` is set and the client agreed to be
contacted, one email or SMS to the client naming the service, where it is and a phone number —
nothing else. Nothing about the client is ever sent to the outside service automatically.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from caseload.audit.actions import REDACTED, Action, diff, record, snapshot
from caseload.casework.models import ServiceReferral
from caseload.casework.records import agency_today, consented_channel, membership_of, soft_delete, supported_language, visible
from caseload.clients.models import Client
from caseload.tenancy.access import has_perm
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope, all_agencies

logger = logging.getLogger(__name__)

Kind = ServiceReferral.Kind
Status = ServiceReferral.Status

OPEN_STATUSES = (Status.SENT, Status.ACCEPTED)
CLOSED_STATUSES = (Status.DECLINED, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED)
# Which status each status may move to.
MOVES: dict[str, set[str]] = {
    Status.SENT: {Status.ACCEPTED, Status.DECLINED, Status.CANCELLED},
    Status.ACCEPTED: {Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED},
}
# Values that never enter the audit log.
PRIVATE_FIELDS = {"reason", "outcome"}
DATA_FIELDS = (
    "kind",
    "to_program",
    "service",
    "location",
    "contact",
    "referred_on",
    "reason",
    "follow_up_on",
    "remind_client",
    "program",
)
TARGET_FIELDS = ("kind", "to_program", "service")
MAX_TEXT = 10_000


# --- Consent to reminders ------------------------------------------------------------------------


def reminder_channel(client: Client) -> str | None:
    """How the client may be reminded: "email" or "sms" (their preference first, among what they agreed to), or None."""
    return consented_channel(client) or None


def reminder_refusal(client: Client) -> str | None:
    """Why the client cannot be reminded (None when they can): consent and an address are both needed."""
    if reminder_channel(client) is not None:
        return None
    if client.consent_email and not client.email:
        return _("The client agreed to email, but their profile has no email address.")
    if client.consent_sms and not client.phone:
        return _("The client agreed to text messages, but their profile has no phone number.")
    return _("The client has not agreed to be contacted by email or text message (see their profile's consent).")


# --- Checking the data ---------------------------------------------------------------------------


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code="invalid")})


def _of_agency(row: Any, agency_id: int, field: str, message: str) -> None:
    if row is not None and getattr(row, "agency_id", None) != agency_id:
        raise _error(field, message)


def _clean(referral: ServiceReferral, data: dict[str, Any], *, creating: bool) -> None:
    """Set ``data`` on ``referral`` and check it; ValidationError naming the field.

    Consent to reminders is checked when ``remind_client`` is turned on (a client who withdraws it
    later gets no reminder: ``send_referral_reminders`` checks again)."""
    turning_on_reminders = bool(data.get("remind_client")) and (creating or not referral.remind_client)
    unknown = set(data) - set(DATA_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    agency_id = referral.agency_id
    if not creating and referral.status != Status.SENT:
        for name in TARGET_FIELDS:
            if name in data and data[name] != getattr(referral, name):
                raise _error(name, _("Where the client is referred can only change before the referral is answered."))
    for name, value in data.items():
        if isinstance(value, str) and name != "kind":
            value = value.strip()
        setattr(referral, name, value)

    if referral.kind not in Kind.values:
        raise _error("kind", _("Choose another program of the agency or an outside service."))
    _of_agency(referral.program, agency_id, "program", _("Choose a program of your agency."))
    if referral.kind == Kind.INTERNAL:
        referral.service = referral.location = referral.contact = None
        if referral.to_program is None:
            raise _error("to_program", _("Choose the program the client is referred to."))
        _of_agency(referral.to_program, agency_id, "to_program", _("Choose a program of your agency."))
        if not referral.to_program.is_active and (creating or "to_program" in data):
            raise _error("to_program", _("This program is no longer active."))
    else:
        referral.to_program = None
        service = referral.service
        if service is None:
            raise _error("service", _("Choose the service the client is referred to."))
        _of_agency(service, agency_id, "service", _("Choose a service of your agency's directory."))
        if (creating or "service" in data) and not (service.is_active and service.organisation.is_active):
            raise _error("service", _("This service is no longer offered in the directory."))
        for name, row in (("location", referral.location), ("contact", referral.contact)):
            if row is None:
                continue
            _of_agency(row, agency_id, name, _("Choose from your agency's directory."))
            if row.organisation_id != service.organisation_id:
                raise _error(name, _("Choose one of the organisation of the service."))
            if (creating or name in data) and not row.is_active:
                raise _error(name, _("This is no longer in the directory."))

    referral.reason = referral.reason or ""
    if not referral.reason:
        raise _error("reason", _("Say why the client is referred."))
    if len(referral.reason) > MAX_TEXT:
        raise _error("reason", _("At most %(n)s characters.") % {"n": MAX_TEXT})
    if referral.referred_on is None:
        raise _error("referred_on", _("Enter the date of the referral."))
    if referral.follow_up_on is not None and referral.follow_up_on < referral.referred_on:
        raise _error("follow_up_on", _("The follow-up date is before the date of the referral."))
    if referral.remind_client:
        if referral.follow_up_on is None:
            raise _error("follow_up_on", _("Choose a follow-up date: the client is reminded on it."))
        if turning_on_reminders:
            refusal = reminder_refusal(referral.client)
            if refusal:
                raise _error("remind_client", refusal)
    referral.full_clean(
        exclude=["agency", "client", "author", "batch", "program", "to_program", "service", "location", "contact"]
    )


def _audit(referral: ServiceReferral, actor, action: str, changes: dict[str, list[Any]]) -> None:
    for name in PRIVATE_FIELDS & set(changes):
        changes[name] = [REDACTED, REDACTED]
    record(agency=referral.agency, actor=actor, action=action, obj=referral, changes=changes, client_id=referral.client_id)


def _acting(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Actions -------------------------------------------------------------------------------------


@transaction.atomic
def create_referral(client: Client, actor, data: dict[str, Any]) -> ServiceReferral:
    """Refer the client (data: kind, to_program or service (+ location, contact), referred_on, reason,
    follow_up_on, remind_client, program). Nothing is sent to the service."""
    agency = client.agency
    referral = ServiceReferral(
        agency=agency,
        client=client,
        author=membership_of(agency, actor),
        referred_on=timezone.localdate(),
        status=Status.SENT,
    )
    _clean(
        referral,
        {"referred_on": agency_today(agency), **{k: v for k, v in data.items() if v is not None or k != "referred_on"}},
        creating=True,
    )
    referral.save()
    after = snapshot(referral)
    after.pop("agency", None)
    _audit(referral, actor, Action.CREATE, diff({}, after))
    return referral


def _locked(referral: ServiceReferral) -> ServiceReferral:
    """The referral read again under a row lock, so two answers at once are taken one after the other."""
    fresh = ServiceReferral.objects.for_agency(referral.agency).select_for_update().get(pk=referral.pk)
    fresh.agency = referral.agency
    if fresh.deleted_at is not None:
        raise _error("status", _("This referral was deleted."))
    return fresh


def _move(referral: ServiceReferral, actor, status: str, allowed: set[str], wrong_move: str, **changes: Any) -> ServiceReferral:
    fresh = _locked(referral)
    if status not in allowed:
        raise _error(
            "status", _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(Status(s).label) for s in sorted(allowed))}
        )
    if status not in MOVES.get(fresh.status, set()):
        raise _error("status", wrong_move % {"status": fresh.get_status_display()})
    names = ["status", *changes]
    before = snapshot(fresh, names)
    fresh.status = status
    for name, value in changes.items():
        setattr(fresh, name, value)
    fresh.updated_at = timezone.now()
    fresh.updated_by = _acting(actor)
    fresh.save(update_fields=[*names, "updated_at", "updated_by"])
    _audit(fresh, actor, Action.CHANGE, diff(before, snapshot(fresh, names)))
    # The caller's object follows, so a page rendered after the action shows the new state.
    for name in (*names, "updated_at", "updated_by"):
        setattr(referral, name, getattr(fresh, name))
    return referral


def _note(text: str, field: str = "outcome") -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise _error(field, _("At most %(n)s characters.") % {"n": MAX_TEXT})
    return text


@transaction.atomic
def respond_referral(referral: ServiceReferral, actor, status: str, *, note: str = "") -> ServiceReferral:
    """The service's answer: sent → accepted or declined (``note``: what they said, kept as the outcome)."""
    now = timezone.now()
    changes: dict[str, Any] = {"responded_at": now}
    if note.strip():
        changes["outcome"] = _note(note)
    if status == Status.DECLINED:
        changes["closed_at"] = now
    return _move(
        referral,
        actor,
        status,
        {Status.ACCEPTED, Status.DECLINED},
        _("Only a referral awaiting an answer can be accepted or declined; this one is %(status)s."),
        **changes,
    )


@transaction.atomic
def close_referral(referral: ServiceReferral, actor, status: str, outcome: str = "") -> ServiceReferral:
    """What came of an accepted referral: completed (the outcome says how) or no-show."""
    outcome = _note(outcome)
    if status == Status.COMPLETED and not outcome:
        raise _error("outcome", _("Say what came of the referral."))
    changes: dict[str, Any] = {"closed_at": timezone.now()}
    if outcome:
        changes["outcome"] = outcome
    return _move(
        referral,
        actor,
        status,
        {Status.COMPLETED, Status.NO_SHOW},
        _("Only an accepted referral can be completed or marked as a no-show; this one is %(status)s."),
        **changes,
    )


@transaction.atomic
def cancel_referral(referral: ServiceReferral, actor, *, note: str = "") -> ServiceReferral:
    """The sender withdraws a referral still sent or accepted."""
    changes: dict[str, Any] = {"closed_at": timezone.now()}
    if note.strip():
        changes["outcome"] = _note(note)
    return _move(
        referral,
        actor,
        Status.CANCELLED,
        {Status.CANCELLED},
        _("Only an open referral can be cancelled; this one is %(status)s."),
        **changes,
    )


@transaction.atomic
def update_referral(referral: ServiceReferral, actor, data: dict[str, Any]) -> ServiceReferral:
    """Change a referral's details. Where it goes (kind, program, service) changes only while it is
    sent; ``outcome`` only once it is closed. A new follow-up date brings its reminders back."""
    fresh = _locked(referral)
    data = dict(data)
    outcome = data.pop("outcome", None)
    names = [*DATA_FIELDS, "outcome", "staff_reminder_sent_at", "client_reminder_sent_at"]
    before = snapshot(fresh, names)
    follow_up_before = fresh.follow_up_on
    _clean(fresh, data, creating=False)
    if outcome is not None:
        if fresh.status in OPEN_STATUSES and outcome.strip():
            raise _error("outcome", _("The outcome is recorded when the referral is closed."))
        fresh.outcome = _note(outcome)
    if fresh.follow_up_on != follow_up_before:
        fresh.staff_reminder_sent_at = fresh.client_reminder_sent_at = None
    changes = diff(before, snapshot(fresh, names))
    if changes:
        fresh.updated_at = timezone.now()
        fresh.updated_by = _acting(actor)
        fresh.save()
        _audit(fresh, actor, Action.CHANGE, changes)
    return fresh


@transaction.atomic
def delete_referral(referral: ServiceReferral, actor) -> None:
    """A soft delete: the referral leaves every page, an administrator still finds it in the audit log."""
    fresh = _locked(referral)
    soft_delete(fresh, actor, agency=referral.agency, client_id=referral.client_id)
    referral.deleted_at = fresh.deleted_at


# --- Reading -------------------------------------------------------------------------------------


def referrals_for_agency(agency: Agency, membership) -> Any:
    return visible(ServiceReferral.objects.for_agency(agency), membership).select_related(
        "agency", "client", "to_program", "service__organisation", "location", "contact", "author__user"
    )


def target_name(referral: ServiceReferral) -> str:
    if referral.kind == Kind.INTERNAL:
        return referral.to_program.name if referral.to_program_id else ""
    return referral.service.name if referral.service_id else ""


def organisation_name(referral: ServiceReferral) -> str:
    if referral.kind == Kind.INTERNAL:
        return referral.agency.name
    return referral.service.organisation.name if referral.service_id else ""


STATUS_BADGES = {
    Status.SENT: "badge-warning",
    Status.ACCEPTED: "badge-info",
    Status.DECLINED: "badge-danger",
    Status.COMPLETED: "badge-success",
    Status.NO_SHOW: "badge-neutral",
    Status.CANCELLED: "badge-neutral",
}


def client_referrals_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    """The context of casework/_client_referrals.html: the client's referrals, open ones first."""
    agency = request.agency
    rows = list(
        referrals_for_agency(agency, getattr(request, "membership", None))
        .filter(client=client)
        .order_by("status", "-referred_on", "-pk")
    )
    rows.sort(key=lambda r: (r.status not in OPEN_STATUSES, r.status != Status.SENT))
    for row in rows:
        row.badge = STATUS_BADGES.get(row.status, "badge-neutral")
        row.target = target_name(row)
        row.organisation = organisation_name(row)
    can_refer = has_perm(request, "casework.change")
    return {
        "client_referrals": rows,
        "client_referrals_open": sum(1 for r in rows if r.status in OPEN_STATUSES),
        "can_refer": can_refer,
        "new_referral_url": reverse("casework:referral_new", args=[client.pk]) if can_refer else "",
    }


# --- Reminders -----------------------------------------------------------------------------------


def where_and_phone(referral: ServiceReferral) -> tuple[str, str]:
    """The place and the phone number a client reminder gives (blank when unknown)."""
    if referral.kind == Kind.INTERNAL:
        return referral.agency.name, ""
    where = ""
    if referral.location_id:
        location = referral.location
        address = ", ".join(part for part in (location.address_1, location.city) if part)
        where = f"{location.name} ({address})" if address and address != location.name else (address or location.name)
    service = referral.service
    phone = (referral.contact.phone if referral.contact_id else "") or service.phone or service.organisation.phone
    return where, phone


def client_reminder_text(referral: ServiceReferral) -> tuple[str, str]:
    """(subject, body) of the client's reminder: the service, where and a phone number, nothing else."""
    where, phone = where_and_phone(referral)
    lines = [_("A reminder about your referral to: %(service)s") % {"service": target_name(referral)}]
    if where:
        lines.append(_("Where: %(where)s") % {"where": where})
    if phone:
        lines.append(_("Phone: %(phone)s") % {"phone": phone})
    return _("A reminder from %(agency)s") % {"agency": referral.agency.name}, "\n".join(lines)


def staff_reminder_text(referral: ServiceReferral) -> tuple[str, str]:
    url = settings.SITE_URL + reverse("casework:referral_detail", args=[referral.pk])
    subject = _("Follow up on a referral (client #%(number)s)") % {"number": referral.client.client_number}
    body = "\n".join(
        [
            _("The referral of client #%(number)s to %(target)s, made on %(date)s, is due for follow-up.")
            % {
                "number": referral.client.client_number,
                "target": target_name(referral),
                "date": referral.referred_on.isoformat(),
            },
            _("Its status: %(status)s.") % {"status": referral.get_status_display()},
            "",
            _("Open it: %(url)s") % {"url": url},
        ]
    )
    return subject, body


def _claim(referral: ServiceReferral, field: str) -> bool:
    return (
        ServiceReferral.objects.for_agency(referral.agency)
        .filter(pk=referral.pk, status__in=OPEN_STATUSES, deleted_at__isnull=True, **{f"{field}__isnull": True})
        .update(**{field: timezone.now()})
        == 1
    )


@transaction.atomic
def _remind_staff(referral: ServiceReferral) -> str | None:
    from caseload.messaging.actions import queue_email

    if not _claim(referral, "staff_reminder_sent_at"):
        return None  # another run has it
    author = referral.author
    if author is None or not author.is_active or not author.user.email:
        return "skipped"
    with translation.override(supported_language(author.user.preferred_language, *(referral.agency.languages or []))):
        subject, body = staff_reminder_text(referral)
    try:
        with transaction.atomic():
            queue_email(
                agency=referral.agency,
                to=author.user.email,
                subject=subject,
                body=body,
                kind="referral_follow_up",
                recipient_user=author.user,
            )
    except ValidationError:
        logger.warning("Referral %s: the staff reminder could not be queued", referral.pk)
        return "skipped"
    return "sent"


@transaction.atomic
def _remind_client(referral: ServiceReferral) -> str | None:
    from caseload.messaging.actions import queue_email, queue_sms

    channel = reminder_channel(referral.client)
    if channel is None:
        return None  # consent withdrawn since: not claimed, nothing sent
    if not _claim(referral, "client_reminder_sent_at"):
        return None
    client = referral.client
    with translation.override(supported_language(client.preferred_language, *(referral.agency.languages or []))):
        subject, body = client_reminder_text(referral)
    try:
        with transaction.atomic():
            if channel == "email":
                queue_email(
                    agency=referral.agency, to=client.email, subject=subject, body=body, kind="referral_reminder", client=client
                )
            else:
                queue_sms(
                    agency=referral.agency,
                    to=client.phone,
                    body=f"{referral.agency.name}: {body}",
                    kind="referral_reminder",
                    client=client,
                )
    except ValidationError:
        logger.warning("Referral %s: the client reminder could not be queued (the address is not valid)", referral.pk)
        return "skipped"
    return "sent"


def send_referral_reminders(today: date | None = None) -> dict[str, int]:
    """Queue the follow-up reminders due (see the module's docstring); returns how many of each went.

    Runs across agencies (a system job), each in its own scope and its own "today". Each reminder
    is claimed with a conditional UPDATE in the transaction that queues its message, so two runs
    at once never send one twice.
    """
    horizon = (today or timezone.localdate()) + timedelta(days=1)  # agencies' "today" differ from UTC's by up to a day
    due = Q(status__in=OPEN_STATUSES, deleted_at__isnull=True, follow_up_on__isnull=False, follow_up_on__lte=horizon)
    client_due = Q(remind_client=True, client_reminder_sent_at__isnull=True, client__status=Client.Status.ACTIVE) & (
        (Q(client__consent_email=True) & ~Q(client__email="")) | (Q(client__consent_sms=True) & ~Q(client__phone=""))
    )
    with all_agencies():
        candidates = list(
            ServiceReferral.objects.filter(due)
            .filter(Q(staff_reminder_sent_at__isnull=True) | client_due)
            .order_by("agency_id", "follow_up_on", "pk")
            .values_list("agency_id", "pk")
        )
        agencies = Agency.objects.in_bulk({agency_id for agency_id, _pk in candidates})
    by_agency: dict[int, list[int]] = defaultdict(list)
    for agency_id, pk in candidates:
        by_agency[agency_id].append(pk)
    counts = {"staff": 0, "client": 0, "skipped": 0}
    for agency_id, pks in by_agency.items():
        agency = agencies[agency_id]
        day = today or agency_today(agency)
        with agency_scope(agency):
            referrals = (
                ServiceReferral.objects.for_agency(agency)
                .filter(pk__in=pks, follow_up_on__lte=day)
                .select_related("client", "author__user", "to_program", "service__organisation", "location", "contact")
                .order_by("follow_up_on", "pk")
            )
            for referral in referrals:
                referral.agency = agency
                if referral.staff_reminder_sent_at is None:
                    outcome = _remind_staff(referral)
                    if outcome:
                        counts["staff" if outcome == "sent" else "skipped"] += 1
                if (
                    referral.remind_client
                    and referral.client_reminder_sent_at is None
                    and referral.client.status == Client.Status.ACTIVE
                ):
                    outcome = _remind_client(referral)
                    if outcome:
                        counts["client" if outcome == "sent" else "skipped"] += 1
    return counts
