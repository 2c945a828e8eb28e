"""Language-training courses: the list, the course form, the course page with its roster,
enrolment, the students' enrolment and exit forms, and the attendance grid.

Reading needs ``delivery.view``; creating and changing a course ``delivery.configure``; enrolling,
exits and attendance ``delivery.change`` (403 otherwise). A course is seen through its session's
program (``visibility.sessions_for``): another agency's course, a deleted one or one of a program
the member is not in answers 404. Writes call ``caseload.delivery.courses``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record
from caseload.clients.models import Client
from caseload.clients.queries import search_clients
from caseload.delivery import courses
from caseload.delivery.course_forms import RENAMED, CourseForm, EnrolForm
from caseload.delivery.models import Attendee, ClassAttendance, Course, ServiceRecord
from caseload.delivery.visibility import may_change_record, may_see_record
from caseload.formbuilder import engine, loading, rendering
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.forms import add_errors

VIEW, CHANGE, CONFIGURE = "delivery.view", "delivery.change", "delivery.configure"
STATUS_LETTERS = {
    ClassAttendance.Status.PRESENT: "P",
    ClassAttendance.Status.ABSENT: "A",
    ClassAttendance.Status.LATE: "L",
    ClassAttendance.Status.EXCUSED: "E",
}
MARK_PREFIX = "mark-"
OPEN_FROM_COURSE = ("course_code", "clb_levels_from", "clb_levels_to")


# --- Lookups ------------------------------------------------------------------------------------


def _course(request: HttpRequest, pk: int) -> Course:
    course = get_for_agency(request, courses.courses_for(request.agency, request.membership), pk=pk)
    course.session.agency = request.agency
    return course


def _student(request: HttpRequest, pk: int) -> tuple[Attendee, Course]:
    attendee = get_for_agency(request, Attendee.objects.select_related("client", "session"), pk=pk)
    course = courses.courses_for(request.agency, request.membership).filter(session_id=attendee.session_id).first()
    if course is None:
        raise Http404
    course.session.agency = attendee.session.agency = attendee.client.agency = request.agency
    return attendee, course


def _staff_name(membership) -> str:
    if membership is None:
        return ""
    return membership.user.get_full_name() or membership.user.email


def _date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text or "")
    except ValueError:
        return None


def _levels_text(course: Course) -> str:
    labels = {"listening": _("L"), "speaking": _("S"), "reading": _("R"), "writing": _("W")}
    parts = []
    for skill, (low, high) in (course.clb_levels or {}).items():
        span = str(low) if low == high else f"{low}–{high}"
        parts.append(f"{labels.get(skill, skill)} {span}")
    return " · ".join(parts)


def _days_text(course: Course) -> str:
    names = [formats.date_format(datetime.date(2024, 1, 1) + datetime.timedelta(days=day), "D") for day in course.weekdays or []]
    return ", ".join(names)


def _posted(spec: dict, request: HttpRequest) -> tuple[dict[str, Any], str | None, dict[str, str]]:
    """The answers a form posted, the group whose "Add another" was pressed, and upload errors."""
    try:
        result = rendering.answers_from_post(spec, request.POST, request.FILES, prefix="f")
    except engine.AnswerErrors as error:
        return {}, None, dict(error.errors)
    return result[0], result[1], dict(getattr(result, "errors", None) or {})


def _split_errors(error: ValidationError) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Answer errors by field path (for the form engine's fields) and the others by name."""
    answers: dict[str, str] = {}
    others: dict[str, list[str]] = {}
    for key, found in error.message_dict.items():
        if key.startswith("answers."):
            answers[key.removeprefix("answers.")] = " ".join(found)
        else:
            others[key] = list(found)
    return answers, others


def _without(spec: dict, *keys: str) -> dict:
    return {**spec, "fields": [field for field in spec.get("fields") or [] if field.get("key") not in keys]}


def _open_from_course(data: dict[str, Any]) -> dict[str, Any]:
    """The open form's answers the course fields give (its code, the CLB levels taught)."""
    levels = data.get("clb_levels") or {}
    answers: dict[str, Any] = {"course_code": data["code"]}
    if levels:
        answers["clb_levels_from"] = {skill: low for skill, (low, _high) in levels.items()}
        answers["clb_levels_to"] = {skill: high for skill, (_low, high) in levels.items()}
    return answers


# --- The list -----------------------------------------------------------------------------------


@perm_required(VIEW)
def course_list(request: HttpRequest) -> HttpResponse:
    rows = courses.courses_for(request.agency, request.membership).order_by("-start_date", "code")
    show = request.GET.get("show", "current")
    today = timezone.localdate()
    if show == "current":
        rows = rows.filter(end_date__gte=today)
    items = [
        {
            "course": course,
            "teacher": _staff_name(course.teacher),
            "levels": _levels_text(course),
            "days": _days_text(course),
            "url": reverse("delivery:course_detail", args=[course.pk]),
        }
        for course in rows
    ]
    context = {
        "items": items,
        "show": show,
        "can_configure": has_perm(request, CONFIGURE),
    }
    return render(request, "delivery/courses/list.html", context)


# --- The course form ----------------------------------------------------------------------------


def _course_form_page(request: HttpRequest, *, course: Course | None) -> HttpResponse:
    _definition, _extension, spec = loading.form_spec(request.agency, courses.OPEN_FORM)
    existing = courses.open_record(course) if course is not None else None
    if existing is not None:
        spec = loading.record_spec(existing.definition, existing.extension)
    # The open form's course code and CLB levels are the course's own: asked once, above.
    spec = _without(spec, *OPEN_FROM_COURSE)
    form = CourseForm(request.POST or None, agency=request.agency, membership=request.membership, course=course)
    answers: dict[str, Any] = dict(existing.answers) if existing is not None else {}
    answer_errors: dict[str, str] = {}
    extra_rows: dict[str, int] = {}
    status = 200
    if request.method == "POST":
        answers, add_group, answer_errors = _posted(spec, request)
        if add_group:
            extra_rows[add_group] = 1
            form.is_valid()
        elif form.is_valid() and not answer_errors:
            data = form.course_data()
            answers.update(_open_from_course(data))
            open_status = "draft" if request.POST.get("save") == "draft" else "completed"
            if existing is not None and existing.status == ServiceRecord.Status.COMPLETED:
                open_status = "completed"
            try:
                if course is None:
                    saved = courses.create_course(request.agency, request.user, data, answers, open_status=open_status)
                else:
                    saved = courses.update_course(course, request.user, data, answers, open_status=open_status)
            except ValidationError as error:
                answer_errors, others = _split_errors(error)
                add_errors(form, ValidationError(others), RENAMED)
            else:
                messages.success(request, _("Course %(code)s is saved.") % {"code": saved.code})
                return redirect("delivery:course_detail", pk=saved.pk)
        if not extra_rows:
            status = 400
    context = {
        "course": course,
        "form": form,
        "open_html": rendering.render_fields(spec, answers, answer_errors, prefix="f", extra_rows=extra_rows),
        "open_is_draft": existing is None or existing.status == ServiceRecord.Status.DRAFT,
        "cancel_url": reverse("delivery:course_detail", args=[course.pk]) if course else reverse("delivery:course_list"),
    }
    return render(request, "delivery/courses/form.html", context, status=status)


@perm_required(CONFIGURE)
def course_new(request: HttpRequest) -> HttpResponse:
    return _course_form_page(request, course=None)


@perm_required(CONFIGURE)
def course_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _course_form_page(request, course=_course(request, pk))


# --- The course page ----------------------------------------------------------------------------


@perm_required(VIEW)
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    open_row = courses.open_record(course)
    if open_row is not None and not may_see_record(open_row, request.membership):
        open_row = None
    can_change = has_perm(request, CHANGE)
    roster = courses.roster(course, request.membership)
    for row in roster:
        row.enrolment_url = reverse("delivery:student_enrolment", args=[row.attendee.pk])
        row.exit_url = reverse("delivery:student_exit", args=[row.attendee.pk])
    today = timezone.localdate()
    context = {
        "course": course,
        "teacher": _staff_name(course.teacher),
        "levels": _levels_text(course),
        "days": _days_text(course),
        "funders": list(course.session.funders.all()),
        "roster": roster,
        "enrolled": sum(1 for row in roster if row.is_active),
        "open_record": open_row,
        "open_html": rendering.render_answers(loading.record_spec(open_row.definition, open_row.extension), open_row.answers)
        if open_row is not None
        else "",
        "can_change": can_change,
        "can_configure": has_perm(request, CONFIGURE),
        "classes_so_far": len(courses.class_dates(course, course.start_date, min(today, course.end_date))),
        "classes_total": len(courses.class_dates(course)),
    }
    return render(request, "delivery/courses/detail.html", context)


# --- Enrolment ----------------------------------------------------------------------------------


@perm_required(CHANGE)
def course_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    """Find the agency's clients by name (``?q=``) and enrol the ones ticked."""
    course = _course(request, pk)
    query = (request.POST.get("q") if request.method == "POST" else request.GET.get("q")) or ""
    enrolled_ids = set(courses.students(course).values_list("client_id", flat=True))
    matches = [match.client for match in search_clients(request.agency, query, limit=25)] if query.strip() else []
    chosen_ids = [int(value) for value in request.POST.getlist("clients") if value.isdigit()]
    chosen = list(Client.objects.for_agency(request.agency).filter(pk__in=chosen_ids)) if chosen_ids else []
    candidates = {client.pk: client for client in [*chosen, *matches]}
    choices = [(client.pk, str(client)) for client in candidates.values() if client.pk not in enrolled_ids]
    form = EnrolForm(request.POST or None, choices=choices)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            clients = [candidates[client_id] for client_id in form.cleaned_data["clients"] if client_id in candidates]
            try:
                added = courses.enrol(course, request.user, clients, first_class=form.cleaned_data.get("first_class"))
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("%(count)s enrolled in %(code)s.") % {"count": len(added), "code": course.code})
                return redirect("delivery:course_detail", pk=course.pk)
        status = 400
    taken = courses.enrolled_count(course)
    context = {
        "course": course,
        "form": form,
        "query": query,
        "searched": bool(query.strip()),
        "already": [client for client in matches if client.pk in enrolled_ids],
        "taken": taken,
        "free": max(course.capacity - taken, 0),
    }
    return render(request, "delivery/courses/enrol.html", context, status=status)


# --- A student's enrolment and exit forms -------------------------------------------------------


def _student_form(request: HttpRequest, pk: int, form_key: str) -> HttpResponse:
    attendee, course = _student(request, pk)
    existing = courses.student_record(attendee, form_key)
    if existing is not None and not may_see_record(existing, request.membership):
        raise Http404
    writable = has_perm(request, CHANGE) and (existing is None or may_change_record(existing, request.membership))
    if request.method == "POST" and not writable:
        raise PermissionDenied
    if existing is not None:
        spec = loading.record_spec(existing.definition, existing.extension)
        answers: dict[str, Any] = dict(existing.answers)
        record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=existing, client_id=attendee.client_id)
    else:
        definition, _extension, spec = loading.form_spec(request.agency, form_key)
        if definition is None:
            raise Http404
        answers = {"course_code": course.code}
        if form_key == courses.ENROLMENT_FORM:
            answers["first_class_date"] = attendee.joined_on.isoformat()
    errors: dict[str, str] = {}
    general: list[str] = []
    extra_rows: dict[str, int] = {}
    status = 200
    if request.method == "POST":
        answers, add_group, errors = _posted(spec, request)
        if add_group:
            extra_rows[add_group] = 1
        elif not errors:
            save_as = "draft" if request.POST.get("save") == "draft" else "completed"
            if existing is not None and existing.status == ServiceRecord.Status.COMPLETED:
                save_as = "completed"
            try:
                if form_key == courses.EXIT_FORM:
                    courses.exit_student(attendee, request.user, answers, save_as)
                else:
                    courses.save_student_form(attendee, request.user, form_key, answers, save_as)
            except ValidationError as error:
                errors, others = _split_errors(error)
                general = [message for found in others.values() for message in found]
            else:
                messages.success(request, _("%(name)s: form saved.") % {"name": attendee.client})
                return redirect("delivery:course_detail", pk=course.pk)
        if not extra_rows:
            status = 400
    context = {
        "course": course,
        "attendee": attendee,
        "title": _("Exit") if form_key == courses.EXIT_FORM else _("Enrolment"),
        "record": existing,
        "writable": writable,
        "fields_html": rendering.render_fields(spec, answers, errors, prefix="f", extra_rows=extra_rows) if writable else "",
        "answers_html": rendering.render_answers(spec, answers) if not writable and existing is not None else "",
        "general_errors": general,
        "may_draft": existing is None or existing.status == ServiceRecord.Status.DRAFT,
        "cancel_url": reverse("delivery:course_detail", args=[course.pk]),
    }
    return render(request, "delivery/courses/student_form.html", context, status=status)


@perm_required(VIEW)
def student_enrolment(request: HttpRequest, pk: int) -> HttpResponse:
    return _student_form(request, pk, courses.ENROLMENT_FORM)


@perm_required(VIEW)
def student_exit(request: HttpRequest, pk: int) -> HttpResponse:
    return _student_form(request, pk, courses.EXIT_FORM)


# --- The attendance grid ------------------------------------------------------------------------


def _grid_rows(course: Course, day: datetime.date, marks: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {"attendee": attendee, "mark": marks.get(attendee.pk, ""), "name": f"{MARK_PREFIX}{attendee.pk}"}
        for attendee in courses.active_students(course, day)
    ]


@perm_required(VIEW)
def course_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """One class date (``?date=YYYY-MM-DD``, by default the latest class so far) for the whole class."""
    course = _course(request, pk)
    if request.method == "POST" and not has_perm(request, CHANGE):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    day = _date(source.get("date")) or courses.latest_class_date(course)
    if day is None or not courses.is_class_date(course, day):
        if request.method == "POST" or source.get("date"):
            messages.error(request, _("This course has no class on that date."))
        day = courses.latest_class_date(course)
        if request.method == "POST" or day is None:
            return redirect("delivery:course_detail", pk=course.pk)
    existing = courses.class_record(course, day)
    if existing is not None and not may_see_record(existing, request.membership):
        existing = None
    if existing is not None:
        spec = loading.record_spec(existing.definition, existing.extension)
        answers: dict[str, Any] = dict(existing.answers)
    else:
        _definition, _extension, spec = loading.form_spec(request.agency, courses.ATTENDANCE_FORM)
        answers = {}
    spec = _without(spec, courses.CLASS_DATE_KEY)
    saved_marks = {
        row.attendee_id: row.status
        for row in ClassAttendance.objects.for_agency(request.agency).filter(attendee__session_id=course.session_id, date=day)
    }
    marks = dict(saved_marks)
    if request.GET.get("preset") in STATUS_LETTERS:
        marks = {attendee.pk: request.GET["preset"] for attendee in courses.active_students(course, day)}
    errors: dict[str, str] = {}
    general: list[str] = []
    status = 200
    if request.method == "POST":
        posted = {
            int(name.removeprefix(MARK_PREFIX)): value
            for name, value in request.POST.items()
            if name.startswith(MARK_PREFIX) and name.removeprefix(MARK_PREFIX).isdigit()
        }
        marks.update(posted)
        answers, _add, errors = _posted(spec, request)
        if not errors:
            class_answers = answers if any(value not in (None, "", [], {}) for value in answers.values()) or existing else None
            try:
                saved = courses.save_attendance(course, request.user, day, posted, class_answers)
            except ValidationError as error:
                errors, others = _split_errors(error)
                general = [message for found in others.values() for message in found]
            else:
                messages.success(
                    request,
                    _(
                        "Attendance for %(date)s is saved: %(present)s present, %(late)s late, %(absent)s absent, %(excused)s excused."
                    )
                    % {"date": formats.date_format(day, "DATE_FORMAT"), **saved.counts},
                )
                return redirect(f"{reverse('delivery:course_attendance', args=[course.pk])}?date={day.isoformat()}")
        status = 400
    previous, following = courses.neighbour_class_dates(course, day)
    dates, grid = courses.month_grid(course, day)
    base = reverse("delivery:course_attendance", args=[course.pk])
    month_first = day.replace(day=1)
    previous_month = courses.class_dates(course, None, month_first - datetime.timedelta(days=1))
    next_month = courses.class_dates(course, (month_first + datetime.timedelta(days=32)).replace(day=1), None)
    context = {
        "course": course,
        "day": day,
        "day_label": f"{formats.date_format(day, 'l')}, {formats.date_format(day, 'DATE_FORMAT')}",
        "rows": _grid_rows(course, day, marks),
        "statuses": [(value, label, STATUS_LETTERS[value]) for value, label in ClassAttendance.Status.choices],
        "can_change": has_perm(request, CHANGE) and (existing is None or may_change_record(existing, request.membership)),
        "fields_html": rendering.render_fields(spec, answers, errors, prefix="f"),
        "general_errors": general,
        "previous_url": f"{base}?date={previous.isoformat()}" if previous else "",
        "next_url": f"{base}?date={following.isoformat()}" if following else "",
        "all_present_url": f"{base}?date={day.isoformat()}&preset=present",
        "month_dates": dates,
        "month_rows": [
            (attendee, [(date, mark, STATUS_LETTERS.get(mark, ""), date == day) for date, mark in zip(dates, found, strict=True)])
            for attendee, found in grid
        ],
        "month_label": formats.date_format(day, "YEAR_MONTH_FORMAT"),
        "previous_month_url": f"{base}?date={previous_month[-1].isoformat()}" if previous_month else "",
        "next_month_url": f"{base}?date={next_month[0].isoformat()}" if next_month else "",
        "is_future": day > timezone.localdate(),
    }
    return render(request, "delivery/courses/attendance.html", context, status=status)


urlpatterns = [
    path("courses/", course_list, name="course_list"),
    path("courses/new/", course_new, name="course_new"),
    path("courses/<int:pk>/", course_detail, name="course_detail"),
    path("courses/<int:pk>/edit/", course_edit, name="course_edit"),
    path("courses/<int:pk>/enrol/", course_enrol, name="course_enrol"),
    path("courses/<int:pk>/attendance/", course_attendance, name="course_attendance"),
    path("students/<int:pk>/enrolment/", student_enrolment, name="student_enrolment"),
    path("students/<int:pk>/exit/", student_exit, name="student_exit"),
]
