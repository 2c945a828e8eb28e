"""Every permission a role can hold, and the roles each new agency starts with.

One place: an app that adds a capability adds its permission codes here.
"""

from django.utils.translation import gettext_lazy as _

PERMISSIONS: dict[str, str] = {
    "agency.manage": _("Manage agency settings, programs and funders"),
    "staff.manage": _("Manage staff, roles and program assignments"),
    "audit.view": _("View the audit log"),
    "audit.export": _("Export the audit log"),
    "messages.view": _("View the outbox"),
    "messages.manage": _("Retry or cancel outbound messages"),
    "clients.view": _("View clients"),
    "clients.change": _("Register and change clients"),
    "clients.assign": _("Assign staff to clients"),
    "clients.flag": _("Add and remove safety flags"),
    "clients.refer": _("Refer clients and answer referrals from other agencies"),
    "clients.archive": _("Archive and unarchive clients"),
    "clients.link": _("Link clients to the government case management system (CaMS)"),
    "clients.portal": _("Send portal invitations and password resets to clients"),
    "clients.merge": _("Merge and unmerge client profiles"),
    "clients.import": _("Import clients from a file"),
    "casework.view": _("View case notes, communications, supportive services, tasks and referrals"),
    "casework.change": _("Record case notes, communications, supportive services, tasks and referrals"),
    "casework.batch": _("Create notes, communications, tasks and services for many clients at once"),
    "casework.export": _("Export case notes, communications and supportive services"),
    "casework.configure": _("Manage supportive service types, grants and the referral directory"),
    "casework.approve_overspend": _("Approve a supportive service that overspends its grant"),
    "delivery.view": _("View sessions, service forms, courses and settlement plans of one's programs"),
    "delivery.change": _("Record sessions, service forms, attendance and settlement plans"),
    "delivery.all_programs": _("See the sessions and service forms of every program"),
    "delivery.configure": _("Set up language-training courses"),
    "delivery.export": _("Export service forms"),
    "forms.configure": _("Add agency questions to forms and the client profile"),
    "documents.view": _("View and download clients' documents"),
    "documents.change": _("Upload, attach and delete clients' documents"),
    "documents.configure": _("Manage the agency's document types"),
    "outcomes.view": _("View outcomes and checkpoints"),
    "outcomes.change": _("Place clients into outcomes, send surveys and review responses"),
    "outcomes.submit": _("Submit checkpoints to government"),
    "outcomes.configure": _("Set programs' follow-up schedules"),
    "messages.templates": _("Edit the agency's message templates"),
}

# Headings for the permission checkboxes, by the part of the code before the dot.
PERMISSION_GROUPS: dict[str, str] = {
    "agency": _("Agency"),
    "staff": _("Staff"),
    "audit": _("Audit log"),
    "messages": _("Messages"),
    "clients": _("Clients"),
    "casework": _("Casework"),
    "delivery": _("Sessions and service forms"),
    "forms": _("Forms"),
    "documents": _("Documents"),
    "outcomes": _("Outcomes"),
}

# Whoever holds this can fix everything else, so an agency always keeps an active holder.
ADMIN_PERMISSION = "staff.manage"

VIEW_PERMISSIONS = {"audit.view", "messages.view", "clients.view", "casework.view", "delivery.view", "documents.view", "outcomes.view"}

CASEWORK_CLIENT_PERMISSIONS = {
    "clients.view",
    "clients.change",
    "clients.assign",
    "clients.flag",
    "clients.refer",
    "clients.link",
    "clients.portal",
    "casework.view",
    "casework.change",
    "casework.batch",
    "delivery.view",
    "delivery.change",
    "documents.view",
    "documents.change",
    "outcomes.view",
    "outcomes.change",
}

SEEDED_ROLES: dict[str, set[str]] = {
    "Administrator": set(PERMISSIONS),
    "Manager": {
        "audit.view",
        "audit.export",
        "messages.view",
        "messages.manage",
        "clients.archive",
        "clients.import",
        "casework.export",
        "casework.configure",
        "casework.approve_overspend",
        "delivery.all_programs",
        "delivery.configure",
        "delivery.export",
        "documents.configure",
        "outcomes.submit",
        "outcomes.configure",
        "messages.templates",
    }
    | CASEWORK_CLIENT_PERMISSIONS,
    "Caseworker": {"messages.view"} | CASEWORK_CLIENT_PERMISSIONS,
    "Front desk": {"clients.view", "clients.change", "clients.portal"},
    "Read-only auditor": set(VIEW_PERMISSIONS) | {"audit.export", "delivery.all_programs"},
}
