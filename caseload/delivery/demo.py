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


def seed_course(agency: Agency) -> None:
    """A LINC course that started six weeks ago, with eight students and their attendance so far."""
    from caseload.delivery import courses
    from caseload.delivery.models import Course

    if Course.objects.for_agency(agency).exists():
        return
    worker, _colleague = _staff(agency)
    program = worker.programs.order_by("name").first() or Program.objects.for_agency(agency).order_by("name").first()
    today = timezone.localdate()
    start = today - timedelta(days=42 + today.weekday())  # a Monday six weeks ago
    course = courses.create_course(
        agency,
        worker.user,
        {
            "code": "LINC-4A",
            "name": "LINC 4 — mornings",
            "program": program,
            "location": "Room 204",
            "teacher": worker,
            "start_date": start,
            "end_date": start + timedelta(weeks=16),
            "weekdays": [0, 2, 4],
            "capacity": 20,
            "clb_levels": {"listening": [4, 5], "speaking": [4, 5], "reading": [3, 4], "writing": [3, 4]},
        },
    )
    clients = list(
        Client.objects.for_agency(agency).filter(status=Client.Status.ACTIVE, is_anonymous=False).order_by("-client_number")[:8]
    )
    if not clients:
        return
    students = courses.enrol(course, worker.user, clients, first_class=start)
    statuses = ["present", "present", "present", "late", "present", "absent", "present", "excused"]
    for day in courses.class_dates(course, start, today - timedelta(days=1)):
        marks = {student.pk: statuses[(student.pk + day.toordinal()) % len(statuses)] for student in students}
        courses.save_attendance(course, worker.user, day, marks)


def seed_plan(agency: Agency) -> None:
    """A settlement plan with four goals and a few follow-ups for the first demo client."""
    from caseload.delivery import plans
    from caseload.delivery.models import SettlementPlan

    if SettlementPlan.objects.for_agency(agency).exists():
        return
    worker, _colleague = _staff(agency)
    client = (
        Client.objects.for_agency(agency)
        .filter(status=Client.Status.ACTIVE, is_anonymous=False)
        .order_by("client_number")
        .first()
    )
    if client is None:
        return
    today = timezone.localdate()
    plan = plans.create_plan(
        client,
        worker.user,
        {"title": "First year in Canada", "started_on": today - timedelta(days=60), "summary": "Housing first, then work."},
        goals=[
            {"area": "housing", "description": "Move to a two-bedroom apartment", "target_date": today + timedelta(days=30)},
            {"area": "language", "description": "Reach CLB 5 in speaking", "target_date": today + timedelta(days=120)},
            {"area": "employment", "description": "Find work in logistics", "target_date": today + timedelta(days=90)},
            {
                "area": "health",
                "description": "Register the family with a family doctor",
                "target_date": today - timedelta(days=5),
            },
        ],
    )
    goals = list(plan.goals.order_by("position", "pk"))
    steps = [
        (50, goals[0], "in_progress", "Viewed two apartments near the school."),
        (35, goals[1], "in_progress", "Enrolled in LINC 4 mornings."),
        (20, goals[3], "in_progress", "On the waiting list of the community health centre."),
        (7, goals[0], "achieved", "Lease signed; moving on the 1st."),
    ]
    for days_ago, goal, status, note in steps:
        plans.add_follow_up(
            plan, worker.user, {"date": today - timedelta(days=days_ago), "goal": goal, "goal_status": status, "note": note}
        )


def seed_outcomes(agency: Agency) -> None:
    """Two clients in Outcomes: one whose 1-month checkpoint is due this week, one answered a while ago."""
    from dateutil.relativedelta import relativedelta

    from caseload.outcomes import actions as outcomes
    from caseload.outcomes.models import Placement

    if Placement.objects.for_agency(agency).exists():
        return
    worker, _colleague = _staff(agency)
    program = worker.programs.order_by("name").first() or Program.objects.for_agency(agency).order_by("name").first()
    clients = list(
        Client.objects.for_agency(agency).filter(status=Client.Status.ACTIVE, is_anonymous=False).order_by("client_number")[1:3]
    )
    today = timezone.localdate()
    exits = [today - relativedelta(months=1) + timedelta(days=2), today - relativedelta(months=4)]
    for client, exit_date in zip(clients, exits, strict=False):
        outcomes.place_into_outcomes(
            client,
            worker.user,
            {"program": program, "exit_date": exit_date, "exit_reason": "completed", "employment_status": "unemployed"},
        )
    outcomes.refresh_statuses(agency, today)
