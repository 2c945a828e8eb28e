"""Language-training courses: the course and its session, enrolment, exits and class attendance.

A course is a language-training session (program, funders, location, teacher) with a schedule
(first and last class, class days), a capacity and the CLB levels it teaches per skill. Students
are the session's attendees: enrolled with ``enrol`` (never past capacity), gone with
``exit_student`` (the exit form; ``left_on`` set from its exit date). Attendance is one mark per
student per class date, saved for the whole class at once by ``save_attendance``, with the class
record (the attendance form: hours, topic ...) of that date. Every write is one transaction with
its audit event; audit events hold counts, never names or answers.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record, record_change, record_create, snapshot
from caseload.casework.records import membership_of
from caseload.clients.models import Client
from caseload.delivery import catalogue, records, sessions
from caseload.delivery.models import Attendee, ClassAttendance, Course, ServiceRecord, SessionType
from caseload.delivery.visibility import records_for, sessions_for
from caseload.tenancy.models import Agency, Membership

OPEN_FORM = "lt_open"
ENROLMENT_FORM = "lt_enrollment"
EXIT_FORM = "lt_exit"
ATTENDANCE_FORM = catalogue.ATTENDANCE_FORM
CLASS_DATE_KEY = "class_date"
# The exit form's question for the day the student left (lt_exit.json).
EXIT_DATE_KEY = "exit_date"

SKILLS = ("listening", "speaking", "reading", "writing")
CLB_MIN, CLB_MAX = 1, 12
COURSE_FIELDS = [
    "code",
    "name",
    "language",
    "teacher",
    "start_date",
    "end_date",
    "weekdays",
    "start_time",
    "end_time",
    "capacity",
    "clb_levels",
]
# What the course's session takes from ``data`` (besides what the course sets: staff, date, title).
SESSION_KEYS = ("program", "funders", "location")

Mark = ClassAttendance.Status
ATTENDED = (Mark.PRESENT, Mark.LATE)


# --- Checking a course's fields -----------------------------------------------------------------


def _clean_clb(value: Any) -> tuple[dict[str, list[int]], dict[str, str]]:
    errors: dict[str, str] = {}
    if value in (None, ""):
        return {}, errors
    if not isinstance(value, dict):
        return {}, {"clb_levels": _("Give the CLB levels taught per skill.")}
    cleaned: dict[str, list[int]] = {}
    for skill, levels in value.items():
        if skill not in SKILLS:
            errors[f"clb_levels.{skill}"] = _("%(skill)s is not a CLB skill.") % {"skill": skill}
            continue
        try:
            low, high = (int(level) for level in levels)
        except (TypeError, ValueError):
            errors[f"clb_levels.{skill}"] = _("Give the lowest and the highest CLB level taught.")
            continue
        if not (CLB_MIN <= low <= CLB_MAX and CLB_MIN <= high <= CLB_MAX):
            errors[f"clb_levels.{skill}"] = _("CLB levels go from 1 to 12.")
        elif low > high:
            errors[f"clb_levels.{skill}"] = _("The lowest level cannot be above the highest.")
        else:
            cleaned[skill] = [low, high]
    return {skill: cleaned[skill] for skill in SKILLS if skill in cleaned}, errors


def _clean_weekdays(value: Any) -> tuple[list[int], str | None]:
    try:
        days = sorted({int(day) for day in value or []})
    except (TypeError, ValueError):
        return [], _("Choose the days of the week the class meets.")
    if not days:
        return [], _("Choose at least one day of the week the class meets.")
    if any(day < 0 or day > 6 for day in days):
        return [], _("Days of the week go from 0 (Monday) to 6 (Sunday).")
    return days, None


def _clean_course(agency: Agency, data: dict[str, Any], course: Course | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The course fields of ``data`` (all of them for a new course), and the errors naming each field."""
    errors: dict[str, str] = {}
    cleaned = {name: data[name] for name in COURSE_FIELDS if name in data}
    if course is None:
        for name in ("code", "name", "start_date", "end_date", "weekdays", "capacity"):
            cleaned.setdefault(name, None)

    def current(name: str) -> Any:
        return cleaned[name] if name in cleaned else getattr(course, name, None)

    if "code" in cleaned:
        code = (cleaned["code"] or "").strip()
        cleaned["code"] = code
        taken = Course.objects.for_agency(agency).filter(code__iexact=code)
        if course is not None:
            taken = taken.exclude(pk=course.pk)
        if not code:
            errors["code"] = _("Give the course a code.")
        elif len(code) > 40:
            errors["code"] = _("A course code has at most 40 characters.")
        elif taken.exists():
            errors["code"] = _("Another course of your agency has this code.")
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = _("Give the course a name.")
    if "language" in cleaned and cleaned["language"] not in Course.Language.values:
        errors["language"] = _("Choose English or French.")
    teacher = cleaned.get("teacher")
    if teacher is not None and (not isinstance(teacher, Membership) or teacher.agency_id != agency.pk):
        errors["teacher"] = _("Choose a staff member of your agency.")
    for name in ("start_date", "end_date"):
        if name in cleaned and not isinstance(cleaned[name], datetime.date):
            errors[name] = _("Enter a valid date.")
    start, end = current("start_date"), current("end_date")
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
        errors["end_date"] = _("The last class cannot be before the first.")
    if "weekdays" in cleaned:
        cleaned["weekdays"], message = _clean_weekdays(cleaned["weekdays"])
        if message:
            errors["weekdays"] = message
    start_time, end_time = current("start_time"), current("end_time")
    if start_time and end_time and end_time <= start_time:
        errors["end_time"] = _("The class must end after it starts.")
    if "capacity" in cleaned:
        try:
            cleaned["capacity"] = int(cleaned["capacity"])
        except (TypeError, ValueError):
            errors["capacity"] = _("Give the number of places in the course.")
        else:
            if cleaned["capacity"] < 1:
                errors["capacity"] = _("A course has at least one place.")
            elif course is not None and cleaned["capacity"] < enrolled_count(course):
                errors["capacity"] = _("%(count)s students are enrolled: the capacity cannot be lower.") % {
                    "count": enrolled_count(course)
                }
    if "clb_levels" in cleaned:
        cleaned["clb_levels"], clb_errors = _clean_clb(cleaned["clb_levels"])
        errors.update(clb_errors)
    return cleaned, errors


def _session_data(data: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    out = {key: data[key] for key in SESSION_KEYS if key in data}
    if "location" in out:
        out["location"] = out["location"] or ""
    if "teacher" in cleaned and (cleaned["teacher"] is None or isinstance(cleaned["teacher"], Membership)):
        out["staff"] = cleaned["teacher"]
    if isinstance(cleaned.get("start_date"), datetime.date):
        out["date"] = cleaned["start_date"]
    if cleaned.get("name"):
        out["title"] = cleaned["name"]
    if "start_time" in cleaned:
        out["start_time"] = cleaned["start_time"]
    return out


def _raise(*error_dicts: dict[str, Any]) -> None:
    merged: dict[str, Any] = {}
    for errors in error_dicts:
        merged.update(errors)
    if merged:
        raise ValidationError(merged)


# --- Courses ------------------------------------------------------------------------------------


@transaction.atomic
def create_course(
    agency: Agency, actor, data: dict[str, Any], open_answers: dict[str, Any] | None = None, *, open_status: str = "completed"
) -> Course:
    """A new course and its language-training session. ``data``: code, name, language, teacher,
    start_date, end_date, weekdays (0 = Monday), start_time, end_time, capacity, clb_levels
    (``{"listening": [4, 6], ...}``), and for the session program, funders, location. With
    ``open_answers``, the course's open form (``lt_open``) is filled in too."""
    cleaned, errors = _clean_course(agency, data, None)
    session_errors: dict[str, Any] = {}
    session = None
    try:
        session = sessions.create_session(
            agency, actor, {"session_type": SessionType.LANGUAGE_TRAINING, **_session_data(data, cleaned)}
        )
    except ValidationError as error:
        session_errors = error.message_dict
    _raise(session_errors, errors)
    course = Course.objects.create(agency=agency, session=session, **cleaned)
    record_create(agency=agency, actor=actor, obj=course)
    if open_answers is not None:
        records.create_record(session, actor, OPEN_FORM, open_answers, status=open_status)
    return course


@transaction.atomic
def update_course(
    course: Course, actor, data: dict[str, Any], open_answers: dict[str, Any] | None = None, *, open_status: str | None = None
) -> Course:
    """Change a course (and its session's program, funders, location, teacher, dates); with
    ``open_answers``, fill in or change its open form."""
    agency = course.agency
    course = Course.objects.for_agency(agency).select_for_update(of=("self",)).select_related("session").get(pk=course.pk)
    course.agency = agency
    if course.deleted_at is not None:
        raise ValidationError({"course": _("This course was deleted.")})
    cleaned, errors = _clean_course(agency, data, course)
    session_errors: dict[str, Any] = {}
    try:
        sessions.update_session(course.session, actor, _session_data(data, cleaned))
    except ValidationError as error:
        session_errors = error.message_dict
    _raise(session_errors, errors)
    before = snapshot(course, COURSE_FIELDS)
    for name, value in cleaned.items():
        setattr(course, name, value)
    course.updated_at = timezone.now()
    course.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    course.save()
    record_change(agency=agency, actor=actor, obj=course, before=before)
    if open_answers is not None:
        existing = open_record(course)
        if existing is None:
            records.create_record(course.session, actor, OPEN_FORM, open_answers, status=open_status or "completed")
        else:
            records.update_record(existing, actor, open_answers, status=open_status)
    course.session.refresh_from_db()
    return course


def open_record(course: Course) -> ServiceRecord | None:
    return _records(course).filter(definition__key=OPEN_FORM).order_by("pk").first()


def _records(course: Course) -> models.QuerySet[ServiceRecord]:
    return ServiceRecord.objects.for_agency(course.agency).filter(session_id=course.session_id, deleted_at__isnull=True)


# --- Students -----------------------------------------------------------------------------------


def students(course: Course) -> models.QuerySet[Attendee]:
    """Everyone ever enrolled (those who left too), by name."""
    return Attendee.objects.for_agency(course.agency).filter(session_id=course.session_id).select_related("client")


def active_students(course: Course, on: datetime.date | None = None) -> models.QuerySet[Attendee]:
    """The students enrolled (on ``on``: joined by then and not left before it)."""
    rows = students(course)
    if on is None:
        return rows.filter(left_on__isnull=True)
    return rows.filter(joined_on__lte=on).filter(Q(left_on__isnull=True) | Q(left_on__gte=on))


def enrolled_count(course: Course) -> int:
    return students(course).filter(left_on__isnull=True).count()


def _default_first_class(course: Course) -> datetime.date:
    today = timezone.localdate()
    upcoming = class_dates(course, max(today, course.start_date), course.end_date)
    return upcoming[0] if upcoming else course.start_date


@transaction.atomic
def enrol(course: Course, actor, clients: Iterable[Client], first_class: datetime.date | None = None) -> list[Attendee]:
    """Enrol clients in the course from ``first_class`` (by default the next class date).

    Refused as a whole when a client is already enrolled (or was, and left), or when the course
    has not the places for them all."""
    agency = course.agency
    course = Course.objects.for_agency(agency).select_for_update(of=("self",)).select_related("session").get(pk=course.pk)
    course.agency = course.session.agency = agency
    if course.deleted_at is not None:
        raise ValidationError({"course": _("This course was deleted.")})
    clients = list({client.pk: client for client in clients}.values())
    if not clients:
        raise ValidationError({"clients": _("Choose the clients to enrol.")})
    first_class = first_class or _default_first_class(course)
    if not isinstance(first_class, datetime.date) or not (course.start_date <= first_class <= course.end_date):
        raise ValidationError({"first_class": _("The first class must be within the course's dates.")})
    already = students(course).filter(client_id__in=[client.pk for client in clients])
    if already.exists():
        names = ", ".join(sorted(str(row.client) for row in already))
        raise ValidationError({"clients": _("Already enrolled in this course: %(names)s.") % {"names": names}})
    taken = enrolled_count(course)
    if taken + len(clients) > course.capacity:
        if taken >= course.capacity:
            message = _("The course is full: %(taken)s of %(capacity)s places taken.")
        else:
            message = _("Not enough places: %(taken)s of %(capacity)s places taken.")
        raise ValidationError({"clients": message % {"taken": taken, "capacity": course.capacity}})
    return sessions.add_attendees(course.session, actor, clients, joined_on=first_class)


def exit_date(answers: dict[str, Any]) -> datetime.date | None:
    value = answers.get(EXIT_DATE_KEY)
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def student_record(attendee: Attendee, form_key: str) -> ServiceRecord | None:
    """The attendee's enrolment or exit form (whoever may see it: check with ``visibility``)."""
    return (
        ServiceRecord.objects.for_agency(attendee.agency)
        .filter(session_id=attendee.session_id, client_id=attendee.client_id, definition__key=form_key, deleted_at__isnull=True)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def save_student_form(
    attendee: Attendee, actor, form_key: str, answers: dict[str, Any], status: str = "completed", *, is_private: bool = False
) -> ServiceRecord:
    """Fill in (or change) a student's enrolment or exit form."""
    if form_key not in (ENROLMENT_FORM, EXIT_FORM):
        raise ValidationError({"form": _("This form is not one of a student's forms.")})
    existing = student_record(attendee, form_key)
    if existing is None:
        return records.create_record(
            attendee.session, actor, form_key, answers, client=attendee.client, status=status, is_private=is_private
        )
    return records.update_record(existing, actor, answers, status=status)


@transaction.atomic
def exit_student(attendee: Attendee, actor, answers: dict[str, Any], status: str = "completed") -> ServiceRecord:
    """Record a student's exit (the exit form: reason, CLB levels reached ...); the exit date on the
    form becomes the day they left the course."""
    row = save_student_form(attendee, actor, EXIT_FORM, answers, status)
    left_on = exit_date(row.answers)
    if left_on is not None and left_on != attendee.left_on:
        if left_on < attendee.joined_on:
            raise ValidationError({f"answers.{EXIT_DATE_KEY}": _("The exit date cannot be before the student joined.")})
        before = snapshot(attendee, ["left_on"])
        attendee.left_on = left_on
        attendee.save(update_fields=["left_on"])
        record_change(agency=attendee.agency, actor=actor, obj=attendee, before=before, client_id=attendee.client_id)
    return row


# --- Class dates and attendance -----------------------------------------------------------------


def class_dates(course: Course, start: datetime.date | None = None, end: datetime.date | None = None) -> list[datetime.date]:
    """The course's class dates between ``start`` and ``end`` (both included), within its dates."""
    first = max(start or course.start_date, course.start_date)
    last = min(end or course.end_date, course.end_date)
    days = set(course.weekdays or [])
    out = []
    day = first
    while day <= last:
        if day.weekday() in days:
            out.append(day)
        day += datetime.timedelta(days=1)
    return out


def is_class_date(course: Course, day: datetime.date) -> bool:
    return course.start_date <= day <= course.end_date and day.weekday() in set(course.weekdays or [])


def latest_class_date(course: Course, on_or_before: datetime.date | None = None) -> datetime.date | None:
    """The last class date on or before ``on_or_before`` (today), or the first class if none yet."""
    limit = on_or_before or timezone.localdate()
    day = min(limit, course.end_date)
    while day >= course.start_date:
        if day.weekday() in set(course.weekdays or []):
            return day
        day -= datetime.timedelta(days=1)
    dates = class_dates(course, course.start_date, course.start_date + datetime.timedelta(days=7))
    return dates[0] if dates else None


def neighbour_class_dates(course: Course, day: datetime.date) -> tuple[datetime.date | None, datetime.date | None]:
    """The class dates before and after ``day``."""
    previous = None
    probe = day - datetime.timedelta(days=1)
    while probe >= course.start_date and previous is None:
        if is_class_date(course, probe):
            previous = probe
        probe -= datetime.timedelta(days=1)
    following = None
    probe = day + datetime.timedelta(days=1)
    while probe <= course.end_date and following is None:
        if is_class_date(course, probe):
            following = probe
        probe += datetime.timedelta(days=1)
    return previous, following


def class_record(course: Course, day: datetime.date) -> ServiceRecord | None:
    """That date's class record (the attendance form)."""
    return _records(course).filter(definition__key=ATTENDANCE_FORM, answers__class_date=day.isoformat()).order_by("pk").first()


@dataclass
class AttendanceSaved:
    day: datetime.date
    counts: dict[str, int] = field(default_factory=dict)
    created: int = 0
    changed: int = 0
    record: ServiceRecord | None = None


@transaction.atomic
def save_attendance(
    course: Course,
    actor,
    day: datetime.date,
    marks: dict[int, str],
    class_answers: dict[str, Any] | None = None,
    *,
    class_status: str = "completed",
) -> AttendanceSaved:
    """Save one class date's attendance for the whole class (``{attendee id: status}``; students
    left out keep their mark), and with ``class_answers`` that date's class record."""
    agency = course.agency
    course = Course.objects.for_agency(agency).select_for_update(of=("self",)).select_related("session").get(pk=course.pk)
    course.agency = course.session.agency = agency
    if course.deleted_at is not None:
        raise ValidationError({"course": _("This course was deleted.")})
    if not isinstance(day, datetime.date) or not is_class_date(course, day):
        raise ValidationError({"date": _("This course has no class on that date.")})
    try:
        marks = {int(attendee_id): status for attendee_id, status in marks.items()}
    except (TypeError, ValueError):
        raise ValidationError({"marks": _("Attendance is for the course's students only.")}) from None
    unknown = sorted({status for status in marks.values() if status not in Mark.values}, key=str)
    if unknown:
        raise ValidationError({"marks": _("Mark each student present, absent, late or excused.")})
    enrolled = set(active_students(course, day).values_list("pk", flat=True))
    strangers = set(marks) - enrolled
    if strangers:
        of_course = set(students(course).filter(pk__in=strangers).values_list("pk", flat=True))
        if of_course != strangers:
            raise ValidationError({"marks": _("Attendance is for the course's students only.")})
        raise ValidationError({"marks": _("Some of these students were not enrolled on that date.")})

    existing = {
        row.attendee_id: row.status
        for row in ClassAttendance.objects.for_agency(agency).filter(attendee_id__in=enrolled, date=day)
    }
    before = Counter(existing.values())
    membership = membership_of(agency, actor)
    now = timezone.now()
    rows = [
        ClassAttendance(agency=agency, attendee_id=attendee_id, date=day, status=status, recorded_by=membership, recorded_at=now)
        for attendee_id, status in sorted(marks.items())
        if existing.get(attendee_id) != status
    ]
    if rows:
        ClassAttendance.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["agency", "attendee", "date"],
            update_fields=["status", "recorded_by", "recorded_at"],
        )
    after = Counter({**existing, **marks}.values())
    saved = AttendanceSaved(
        day=day,
        counts={status: after.get(status, 0) for status in Mark.values},
        created=sum(1 for row in rows if row.attendee_id not in existing),
        changed=sum(1 for row in rows if row.attendee_id in existing),
    )

    if class_answers is not None:
        answers = {**class_answers, CLASS_DATE_KEY: day.isoformat()}
        existing_record = class_record(course, day)
        if existing_record is None:
            saved.record = records.create_record(course.session, actor, ATTENDANCE_FORM, answers, status=class_status)
        else:
            saved.record = records.update_record(existing_record, actor, answers, status=class_status)

    changes: dict[str, list[Any]] = {"attendance_date": [None, day.isoformat()]}
    for status in Mark.values:
        if before.get(status, 0) != after.get(status, 0):
            changes[f"attendance.{status}"] = [before.get(status, 0), after.get(status, 0)]
    if saved.created or saved.changed:
        changes["attendance.marked"] = [len(existing), len(existing) + saved.created]
    record(agency=agency, actor=actor, action=Action.CHANGE, obj=course, changes=changes)
    return saved


# --- Queries ------------------------------------------------------------------------------------


def courses_for(agency: Agency, membership: Membership | None) -> models.QuerySet[Course]:
    """The courses ``membership`` may see (the programs rule on their sessions), with their enrolment."""
    return (
        Course.objects.for_agency(agency)
        .filter(deleted_at__isnull=True, session__in=sessions_for(agency, membership))
        .select_related("session", "session__program", "teacher", "teacher__user")
        .annotate(enrolled=Count("session__attendees", filter=Q(session__attendees__left_on__isnull=True)))
    )


@dataclass
class RosterRow:
    attendee: Attendee
    attended: int
    marked: int
    is_active: bool
    enrolment: ServiceRecord | None
    exit: ServiceRecord | None

    @property
    def rate(self) -> int | None:
        """Classes attended (present or late) out of those marked, excused ones aside, in per cent."""
        return round(100 * self.attended / self.marked) if self.marked else None


def roster(course: Course, membership: Membership | None) -> list[RosterRow]:
    rows = list(
        students(course)
        .annotate(
            attended=Count("attendance", filter=Q(attendance__status__in=ATTENDED)),
            marked=Count("attendance", filter=~Q(attendance__status=Mark.EXCUSED)),
        )
        # Meta.ordering is dropped from GROUP BY queries: name it again.
        .order_by("client__family_name", "client__given_name", "pk")
    )
    forms: dict[tuple[int, str], ServiceRecord] = {}
    visible = (
        records_for(course.agency, membership)
        .filter(session_id=course.session_id, definition__key__in=[ENROLMENT_FORM, EXIT_FORM])
        .select_related("definition")
        .order_by("-pk")
    )
    for row in visible:
        forms[(row.client_id, row.definition.key)] = row
    return [
        RosterRow(
            attendee=row,
            attended=row.attended,
            marked=row.marked,
            is_active=row.left_on is None,
            enrolment=forms.get((row.client_id, ENROLMENT_FORM)),
            exit=forms.get((row.client_id, EXIT_FORM)),
        )
        for row in rows
    ]


SYMBOLS = {Mark.PRESENT: "P", Mark.ABSENT: "A", Mark.LATE: "L", Mark.EXCUSED: "E"}


def month_grid(course: Course, day: datetime.date) -> tuple[list[datetime.date], list[tuple[Attendee, list[str]]]]:
    """The class dates of ``day``'s month, and per student their mark on each (``""`` when none)."""
    first = day.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    dates = class_dates(course, first, last)
    people = list(students(course).filter(joined_on__lte=last).filter(Q(left_on__isnull=True) | Q(left_on__gte=first)))
    marks: dict[tuple[int, datetime.date], str] = {
        (row.attendee_id, row.date): row.status
        for row in ClassAttendance.objects.for_agency(course.agency).filter(attendee__in=people, date__gte=first, date__lte=last)
    }
    return dates, [(person, [marks.get((person.pk, date), "") for date in dates]) for person in people]
