"""The casework pages' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

URLs take one ``pk``: a client's (``/clients/<pk>/notes/``) or a record's (``/notes/<pk>/edit/``).
Add a row factory per URL name here; URLs the sweep cannot fill go in SKIPPED with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency


def a_client(agency: Agency) -> models.Model:
    from caseload.clients.actions import register_client
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        return register_client(
            agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad", "email": "amina@example.org"}
        )


def a_task(agency: Agency) -> models.Model:
    """An open task about a client (every staff member of the agency may see it)."""
    from caseload.casework.tasks import create_task
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        return create_task(agency, None, {"title": "Call about the job fair"}, client=client)


def a_note(agency: Agency) -> models.Model:
    """A final, open case note (every staff member of the agency with casework.view may read it)."""
    import datetime

    from caseload.casework.notes import create_note
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        data = {"note_type": "contact", "contact_date": datetime.date(2025, 1, 6), "body": "Called about the workshop."}
        return create_note(client, None, data)


def a_note_attachment(agency: Agency) -> models.Model:
    """A small PDF attached to an open note (stored under MEDIA_ROOT like any upload)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseload.casework.notes import add_attachment
    from caseload.tenancy.scoping import agency_scope

    note = a_note(agency)
    with agency_scope(agency):
        return add_attachment(note, None, SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"))


def a_communication(agency: Agency) -> models.Model:
    """A phone call recorded on a client's file."""
    from caseload.casework.communications import record_communication
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        return record_communication(client, None, {"kind": "phone", "subject": "Called about the workshop"})


def a_client_task(agency: Agency) -> models.Model:
    """An open task for the client (what they see in the portal; the client needs a portal account)."""
    from caseload.casework.tasks import create_task
    from caseload.clients.actions import invite_to_portal
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        invite_to_portal(client, None)
        return create_task(agency, None, {"title": "Bring your resume", "for_client": True}, client=client)


def a_client_list(agency: Agency) -> models.Model:
    """A saved list shared with the agency (a private one is its owner's only), holding one client."""
    from caseload.casework.lists import create_list
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        return create_list(agency, None, {"name": "Spring cohort", "is_shared": True}, clients=[client])


def a_batch(agency: Agency) -> models.Model:
    """A batch that wrote the same note for one client."""
    import datetime

    from caseload.casework.batch import run_batch
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        data = {"note_type": "general", "contact_date": datetime.date(2025, 1, 6), "body": "Workshop invitation sent."}
        return run_batch(agency, None, "note", [client], data, source="sweep")


def a_directory_organisation(agency: Agency) -> models.Model:
    """An organisation of the referral directory with a service, a location and a contact."""
    from caseload.casework import directory
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        count = directory.DirectoryOrganisation.objects.for_agency(agency).count()
        organisation = directory.create_organisation(agency, None, {"name": f"Food Bank {count + 1}", "phone": "416-555-0100"})
        service = directory.create_service(organisation, None, {"name": "Emergency groceries"})
        directory.create_location(organisation, None, {"name": "Main depot", "city": "Toronto", "services": [service]})
        directory.create_contact(organisation, None, {"name": "Marie Tremblay", "service": service})
    return organisation


def _of_organisation(agency: Agency, related: str) -> models.Model:
    from caseload.tenancy.scoping import agency_scope

    organisation = a_directory_organisation(agency)
    with agency_scope(agency):
        return getattr(organisation, related).get()


def a_directory_service(agency: Agency) -> models.Model:
    return _of_organisation(agency, "services")


def a_directory_location(agency: Agency) -> models.Model:
    return _of_organisation(agency, "locations")


def a_directory_contact(agency: Agency) -> models.Model:
    return _of_organisation(agency, "contacts")


def a_service_referral(agency: Agency) -> models.Model:
    """A referral sent to a directory service (awaiting its answer)."""
    import datetime

    from caseload.casework.referrals import create_referral
    from caseload.tenancy.scoping import agency_scope

    service = a_directory_service(agency)
    client = a_client(agency)
    with agency_scope(agency):
        data = {
            "kind": "external",
            "service": service,
            "reason": "Needs groceries this week.",
            "follow_up_on": datetime.date(2030, 1, 6),
        }
        return create_referral(client, None, data)


def an_accepted_referral(agency: Agency) -> models.Model:
    from caseload.casework.referrals import respond_referral
    from caseload.tenancy.scoping import agency_scope

    referral = a_service_referral(agency)
    with agency_scope(agency):
        return respond_referral(referral, None, "accepted")


def a_completed_referral(agency: Agency) -> models.Model:
    from caseload.casework.referrals import close_referral
    from caseload.tenancy.scoping import agency_scope

    referral = an_accepted_referral(agency)
    with agency_scope(agency):
        return close_referral(referral, None, "completed", "Got a food hamper.")


def a_grant(agency: Agency) -> models.Model:
    """A grant with spending, in an agency with grants management on (the grant pages show it all)."""
    import datetime
    from decimal import Decimal

    from caseload.casework import services
    from caseload.tenancy.models import Funder
    from caseload.tenancy.scoping import agency_scope

    agency.grants_management = True
    agency.save(update_fields=["grants_management"])
    with agency_scope(agency):
        count = services.Grant.objects.for_agency(agency).count()
        funder = Funder.objects.create(agency=agency, name=f"Funder {count + 1}")
        data = {
            "name": f"Bus fund {count + 1}",
            "funder": funder,
            "budget": Decimal("500"),
            "starts_on": datetime.date(2025, 1, 1),
            "ends_on": datetime.date(2035, 12, 31),
        }
        return services.create_grant(agency, None, data)


def a_supportive_service(agency: Agency) -> models.Model:
    """A bus pass paid from a grant."""
    import datetime
    from decimal import Decimal

    from caseload.casework import services
    from caseload.tenancy.scoping import agency_scope

    grant = a_grant(agency)
    client = a_client(agency)
    with agency_scope(agency):
        transportation = services.SupportServiceType.objects.for_agency(agency).get(name="Transportation")
        data = {
            "service_type": transportation,
            "date": datetime.date(2025, 1, 6),
            "amount": Decimal("45.50"),
            "grant": grant,
            "justification": "Bus pass",
        }
        return services.record_service(client, None, data)


def a_service_type(agency: Agency) -> models.Model:
    from caseload.casework.models import SupportServiceType
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        return SupportServiceType.objects.for_agency(agency).order_by("pk").first()


def _model_factories() -> dict[type[models.Model], Callable[[Agency], models.Model]]:
    from caseload.casework.models import (
        CaseNote,
        Communication,
        DirectoryContact,
        DirectoryLocation,
        DirectoryOrganisation,
        DirectoryService,
        Grant,
        ServiceReferral,
        SupportiveService,
        SupportServiceType,
        Task,
    )

    return {
        Communication: a_communication,
        Task: a_task,
        CaseNote: a_note,
        ServiceReferral: a_service_referral,
        DirectoryOrganisation: a_directory_organisation,
        DirectoryService: a_directory_service,
        DirectoryLocation: a_directory_location,
        DirectoryContact: a_directory_contact,
        SupportiveService: a_supportive_service,
        SupportServiceType: a_service_type,
        Grant: a_grant,
    }


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {**_model_factories()}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    # Saved lists and batch actions (batch_views.py, api_batch.py)
    "casework:list_detail": a_client_list,
    "casework:list_edit": a_client_list,
    "casework:list_delete": a_client_list,
    "casework:batch_detail": a_batch,
    "api:client-list-detail": a_client_list,
    "api:client-list-clients": a_client_list,
    "api:client-list-add-clients": a_client_list,
    "api:client-list-remove-clients": a_client_list,
    "api:batch-detail": a_batch,
    # Communications and the notification log (communication_views.py)
    "casework:communications": a_client,
    "casework:communication_new": a_client,
    "casework:communication_edit": a_communication,
    "casework:communication_delete": a_communication,
    "casework:notifications": a_client,
    # The portal (caseload/portal): POST only, and staff get a 404 there.
    "portal:task_done": a_client_task,
    # Case notes (note_views.py)
    "casework:notes": a_client,
    "casework:note_new": a_client,
    "casework:note_edit": a_note,
    "casework:note_delete": a_note,
    "casework:note_history": a_note,
    "casework:attachment_download": a_note_attachment,
    # Tasks (task_views.py)
    "casework:client_tasks": a_client,
    "casework:client_task_new": a_client,
    "casework:task_edit": a_task,
    "casework:task_complete": a_task,
    "casework:task_reopen": a_task,
    "casework:task_cancel": a_task,
    "casework:task_delete": a_task,
    # Service referrals and the referral directory (referral_views.py, directory_views.py, api_referrals.py)
    "casework:referral_new": a_client,
    "casework:referral_detail": a_service_referral,
    "casework:referral_respond": a_service_referral,
    "casework:referral_close": an_accepted_referral,
    "casework:referral_cancel": a_service_referral,
    "casework:referral_outcome": a_completed_referral,
    "casework:referral_edit": a_service_referral,
    "casework:referral_delete": a_service_referral,
    "casework:directory_org": a_directory_organisation,
    "casework:directory_org_edit": a_directory_organisation,
    "casework:directory_service_new": a_directory_organisation,
    "casework:directory_service_edit": a_directory_service,
    "casework:directory_location_new": a_directory_organisation,
    "casework:directory_location_edit": a_directory_location,
    "casework:directory_contact_new": a_directory_organisation,
    "casework:directory_contact_edit": a_directory_contact,
    "api:service-referral-close": an_accepted_referral,
    # Supportive services, service types and grants (service_views.py, api_services.py)
    "casework:services": a_client,
    "casework:service_new": a_client,
    "casework:service_edit": a_supportive_service,
    "casework:service_delete": a_supportive_service,
    "casework:service_type_edit": a_service_type,
    "casework:service_type_delete": a_service_type,
    "casework:grant_detail": a_grant,
    "casework:grant_edit": a_grant,
    # The client's history (history_views.py, api_history.py)
    "casework:history": a_client,
    "api:client-history": a_client,
}

SKIPPED: dict[str, str] = {
    "api:export-detail": "takes a report file name (case-notes.csv, ...), not a pk; tested in caseload/casework/tests/test_exports.py",
}
