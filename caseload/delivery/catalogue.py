"""Which service forms each session type holds (source document 002, "Session Types").

Form keys name standard definitions in ``caseload/formbuilder/standard/<key>.json``. A group
session has one form about the whole group (``GROUP_FORM``) and one per named attendee
(``ATTENDEE_FORMS``); a language-training course also has per-class attendance and, per enrolled
student, the enrolment and exit forms.
"""

from __future__ import annotations

from caseload.delivery.models import SessionType

DIRECT_FORMS = [
    "information_orientation",
    "needs_assessment",
    "employment",
    "non_specified",
    "refugee_rap",
    "community_connections",
    "language_assessment",
]
JOB_DEVELOPMENT_FORMS = ["jd_needs_assessment", "jd_update_progress", "job_placement", "mentor_match", "mentor_update"]
FINANCE_FORMS = ["financial_services"]

# The forms a worker picks from when adding a service form to a one-on-one session.
SESSION_FORMS: dict[str, list[str]] = {
    SessionType.DIRECT: DIRECT_FORMS,
    SessionType.JOB_DEVELOPMENT: JOB_DEVELOPMENT_FORMS,
    SessionType.FINANCE: FINANCE_FORMS,
    SessionType.LANGUAGE_TRAINING: ["lt_open", "lt_attendance", "lt_enrollment", "lt_exit"],
    SessionType.IO_GROUP: ["io_group_activity", "group_attendee"],
    SessionType.CC_GROUP: ["cc_group_activity", "cc_attendee"],
    SessionType.EMPLOYMENT_GROUP: ["employment_group_activity", "group_attendee"],
}

# The form about the whole group (one per session).
GROUP_FORM: dict[str, str] = {
    SessionType.LANGUAGE_TRAINING: "lt_open",
    SessionType.IO_GROUP: "io_group_activity",
    SessionType.CC_GROUP: "cc_group_activity",
    SessionType.EMPLOYMENT_GROUP: "employment_group_activity",
}

# The form each named attendee gets (language training: enrolment, then exit when they leave).
ATTENDEE_FORMS: dict[str, list[str]] = {
    SessionType.LANGUAGE_TRAINING: ["lt_enrollment", "lt_exit"],
    SessionType.IO_GROUP: ["group_attendee"],
    SessionType.CC_GROUP: ["cc_attendee"],
    SessionType.EMPLOYMENT_GROUP: ["group_attendee"],
}

# One record per class date, for the whole class.
ATTENDANCE_FORM = "lt_attendance"

# Every standard form, in the order the source document lists them.
STANDARD_FORMS = [
    *DIRECT_FORMS,
    *JOB_DEVELOPMENT_FORMS,
    *FINANCE_FORMS,
    "lt_open",
    "lt_attendance",
    "lt_enrollment",
    "lt_exit",
    "cc_group_activity",
    "cc_attendee",
    "io_group_activity",
    "group_attendee",
    "employment_group_activity",
]
