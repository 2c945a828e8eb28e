"""Demo sessions and service forms (``make run``): one-on-one sessions with completed and draft
forms, and an information session with named and anonymous attendees."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from caseload.casework.demo import _staff
from caseload.clients.models import Client
from caseload.delivery import records, sessions
from caseload.delivery.models import Session
from caseload.tenancy.models import Agency, Program


def seed_sessions(agency: Agency) -> None:
    """Once per agency: skipped when the agency already has sessions."""
    if Session.objects.for_agency(agency).exists():
        return
    worker, _colleague = _staff(agency)
    actor = worker.user
    program = worker.programs.order_by("name").first() or Program.objects.for_agency(agency).order_by("name").first()
    today = timezone.localdate()
    clients = list(
        Client.objects.for_agency(agency).filter(status=Client.Status.ACTIVE, is_anonymous=False).order_by("client_number")[:6]
    )
    if not clients:
        return
    for index, client in enumerate(clients[:4]):
        day = today - timedelta(days=30 - index * 5)
        session = sessions.create_session(
            agency,
            actor,
            {"session_type": "direct", "program": program, "date": day, "mode": "in_person", "duration_minutes": 60},
            client=client,
        )
        records.create_record(
            session,
            actor,
            "needs_assessment",
            {
                "start_date": day.isoformat(),
                "language_of_service": "english",
                "official_language_preference": "english",
                "notes": "First visit: wants to work in logistics and improve English.",
            },
            status="completed",
        )
        records.create_record(
            session,
            actor,
            "information_orientation",
            {
                "start_date": day.isoformat(),
                "service_timing": "post_arrival",
                "topics": ["life_in_canada", "important_documents"],
            },
            status="completed" if index else "draft",
        )
    job = sessions.create_session(
        agency, actor, {"session_type": "job_development", "program": program, "date": today, "mode": "phone"}, client=clients[0]
    )
    records.create_record(
        job, actor, "job_placement", {"placement_type": "job", "employer_name": "Maple Logistics"}, status="draft"
    )
    group = sessions.create_session(
        agency,
        actor,
        {
            "session_type": "io_group",
            "program": program,
            "date": today - timedelta(days=7),
            "title": "Your first months in Canada",
            "location": "Community room",
            "duration_minutes": 120,
            "anonymous_attendees": 4,
        },
    )
    sessions.add_attendees(group, actor, clients[:5])
    records.create_record(
        group,
        actor,
        "io_group_activity",
        {
            "session_topics": ["life_in_canada", "rights_freedoms"],
            "start_date": (today - timedelta(days=7)).isoformat(),
            "presenters": [{"name": "Nadia Benali", "organisation": "Legal Aid Clinic"}],
            "evaluations_collected": 7,
            "service_rating": "4",
        },
        status="completed",
    )
    for client in clients[:3]:
        records.create_record(group, actor, "group_attendee", {"attended": True}, client=client, status="completed")
