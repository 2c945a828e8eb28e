"""Casework for the demo agencies: a referral directory, notes, communications, services, tasks and
referrals on the first clients, and one client with a portal account — made through the actions,
as staff would make them, so ``make run`` shows a working caseload on the first page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from caseload.casework import communications, directory, notes, referrals, services, tasks
from caseload.casework.models import CaseNote, DirectoryOrganisation, Grant, SupportServiceType
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Funder, Membership, Program

DIRECTORY = (
    (
        "Community Food Bank",
        "Groceries and fresh produce for households in need.",
        "info@foodbank.example.org",
        "416-555-0100",
        (("Weekly grocery hamper", "Pick up a hamper once a week; no referral letter needed."),),
        ("Main depot", "125 Queen Street East", "Toronto", "ON", "M5C 1S2"),
        ("Dana Whitfield", "Intake coordinator", "intake@foodbank.example.org", "416-555-0101"),
    ),
    (
        "Legal Aid Clinic",
        "Free legal advice on immigration, housing and employment.",
        "clinic@legalaid.example.org",
        "416-555-0120",
        (
            ("Immigration legal advice", "Refugee claims, sponsorship, status questions."),
            ("Tenant rights advice", "Evictions, repairs, rent increases."),
        ),
        ("Downtown office", "40 Dundas Street West", "Toronto", "ON", "M5G 2C2"),
        ("Samir Haddad", "Staff lawyer", "shaddad@legalaid.example.org", "416-555-0121"),
    ),
    (
        "Centre de santé communautaire",
        "Soins de santé primaires et santé mentale, en français et en anglais.",
        "accueil@csc.example.org",
        "613-555-0140",
        (("Counselling", "Short-term counselling for adults and youth."),),
        ("Centre-ville", "420 rue Cumberland", "Ottawa", "ON", "K1N 7J2"),
        ("Marie Bélanger", "Intervenante d'accueil", "mbelanger@csc.example.org", "613-555-0141"),
    ),
)

TASKS = (
    ("Follow up on job applications", "Ask which employers answered."),
    ("Send the wage subsidy form to the employer", "Signed copy to the employer's HR contact."),
    ("Book the forklift refresher course", "Check the next date at the training centre."),
    ("Check the childcare subsidy application", "The city said two weeks."),
    ("Prepare the mock interview", "Warehouse associate role; bring the job posting."),
    ("Call back about the bus pass", "Monthly pass for the placement."),
    ("Review the resume draft", "Canadian format, one page."),
    ("Confirm the language assessment date", "CLB assessment at the downtown centre."),
)

NOTES = (
    (
        "assessment",
        "Intake assessment done. **Goals**: find work in logistics within 3 months; improve English to CLB 6.\n\n- Resume needs Canadian format\n- Has a forklift certificate from home country",
    ),
    (
        "contact",
        "Called to confirm the workshop on Thursday. Client will bring their ID and the lease for the childcare subsidy.",
    ),
    ("progress", "Attended the resume clinic. Resume is ready; applied to three warehouse postings this week."),
)


def _staff(agency: Agency) -> tuple[Membership, Membership]:
    """The demo's first caseworker (caseworker1@, who records the casework) and a colleague."""
    members = list(
        Membership.objects.for_agency(agency)
        .filter(is_active=True, role__name="Caseworker")
        .select_related("user", "manager")
        .order_by("user__email")
    )
    return members[0], members[-1]


def seed_directory(agency: Agency) -> None:
    if DirectoryOrganisation.objects.for_agency(agency).exists():
        return
    for name, description, email, phone, offered, place, person in DIRECTORY:
        organisation = directory.create_organisation(
            agency, None, {"name": name, "description": description, "email": email, "phone": phone}
        )
        created = [directory.create_service(organisation, None, {"name": s, "description": d}) for s, d in offered]
        location_name, street, city, province, postal = place
        directory.create_location(
            organisation,
            None,
            {
                "name": location_name,
                "address_1": street,
                "city": city,
                "state_province": province,
                "postal_code": postal,
                "services": created,
            },
        )
        contact_name, title, contact_email, contact_phone = person
        directory.create_contact(
            organisation,
            None,
            {"name": contact_name, "title": title, "email": contact_email, "phone": contact_phone, "service": created[0]},
        )


def seed_portal_client(agency: Agency, client: Client, actor, password: str) -> None:
    """A client who has logged in to the portal: a task for them and a reminder going out today."""
    from caseload.clients.actions import invite_to_portal, update_client

    if client.portal_user_id is None:
        # Demo clients of both agencies share generated addresses; a portal account needs its own.
        update_client(
            client,
            actor,
            {"email": f"client@{agency.slug}.example.org", "consent_email": True, "preferred_contact_method": "email"},
        )
        user = invite_to_portal(client, actor)
        user.set_password(password)
        user.last_login = timezone.now()
        user.save(update_fields=["password", "last_login"])
        client.refresh_from_db()
    today = timezone.localdate()
    tasks.create_task(
        agency,
        actor,
        {
            "title": "Upload your updated resume",
            "description": "The PDF version, for the job fair.",
            "due_on": today + timedelta(days=5),
            "for_client": True,
        },
        client=client,
    )
    communications.record_communication(
        client,
        actor,
        {
            "kind": "reminder",
            "direction": "outgoing",
            "date": today,
            "subject": "Job fair tomorrow at 10",
            "body": "Bring ten copies of your resume. Room 204.",
        },
    )


def seed_casework(agency: Agency, portal_password: str = "") -> None:
    """Once per agency: skipped when the agency already has case notes."""
    if CaseNote.objects.for_agency(agency).exists():
        return
    seed_directory(agency)
    worker, colleague = _staff(agency)
    actor = worker.user
    today = timezone.localdate()
    program = Program.objects.for_agency(agency).order_by("name").first()
    clients = list(
        Client.objects.for_agency(agency).filter(status=Client.Status.ACTIVE, is_anonymous=False).order_by("client_number")[:8]
    )
    services.seed_service_types(agency)
    service_types = SupportServiceType.objects.for_agency(agency).filter(is_active=True).order_by("name")
    transport = service_types.filter(name__in=("Transportation", "Transport")).first() or service_types.first()
    grant = None
    funder = Funder.objects.for_agency(agency).first()
    if funder is not None:
        agency.grants_management = True
        agency.save(update_fields=["grants_management"])
        grant = Grant.objects.for_agency(agency).first() or services.create_grant(
            agency,
            None,
            {
                "name": f"{funder.name} supports {today.year}",
                "funder": funder,
                "budget": Decimal("5000.00"),
                "starts_on": today.replace(month=1, day=1),
                "ends_on": today.replace(month=12, day=31),
            },
        )
    external = directory.offered_services(agency).first()
    for index, client in enumerate(clients):
        for days_ago, (note_type, body) in zip((40, 12, 3), NOTES, strict=True):
            notes.create_note(
                client,
                actor,
                {
                    "note_type": note_type,
                    "program": program,
                    "contact_date": today - timedelta(days=days_ago + index),
                    "body": body,
                    "is_private": False,
                    "status": "final",
                },
            )
        communications.record_communication(
            client,
            actor,
            {
                "kind": "phone",
                "direction": "outgoing",
                "date": today - timedelta(days=index + 1),
                "subject": "Appointment confirmed",
                "body": "Confirmed Thursday 10:00 with the employment counsellor.",
                "program": program,
            },
        )
        services.record_service(
            client,
            actor,
            {
                "service_type": transport,
                "date": today - timedelta(days=index + 2),
                "amount": Decimal("3.35") * 4,
                "vendor": "TTC",
                "justification": "Four tokens to attend the job fair and interviews.",
                "grant": grant,
                "program": program,
            },
        )
        due = today + timedelta(days=index - 2)
        tasks.create_task(
            agency,
            actor,
            {
                "title": TASKS[index % len(TASKS)][0],
                "description": TASKS[index % len(TASKS)][1],
                "due_on": due,
                "priority": "high" if index < 2 else "normal",
            },
            client=client,
        )
    if clients:
        first = clients[0]
        notes.create_note(
            first,
            actor,
            {
                "note_type": "case_conference",
                "program": program,
                "contact_date": today,
                "body": "Client disclosed family conflict at home; discussed safety plan options.",
                "is_private": True,
                "status": "final",
            },
        )
        notes.create_note(
            first,
            actor,
            {
                "note_type": "progress",
                "program": program,
                "contact_date": today,
                "body": "Mock interview went well — to finish after the debrief.",
                "is_private": False,
                "status": "draft",
            },
        )
        tasks.create_task(
            agency,
            actor,
            {"title": "Review the intake file", "due_on": today, "priority": "urgent", "assigned_to": colleague},
            client=first,
        )
        if external is not None:
            referrals.create_referral(
                first,
                actor,
                {
                    "kind": "external",
                    "service": external,
                    "reason": "Household needs groceries while waiting for the first pay cheque.",
                    "follow_up_on": today + timedelta(days=7),
                },
            )
        if portal_password:
            seed_portal_client(agency, first, actor, portal_password)
        if program is not None and len(clients) > 1:
            other_program = Program.objects.for_agency(agency).exclude(pk=program.pk).first() or program
            referrals.create_referral(
                clients[1],
                actor,
                {
                    "kind": "internal",
                    "to_program": other_program,
                    "reason": "Wants evening language classes.",
                    "follow_up_on": today + timedelta(days=3),
                },
            )
