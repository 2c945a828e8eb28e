"""Files answered to file questions: checked like case-note attachments (by content, by size),
stored and audited, downloaded only by who may see an answer holding them, as attachments with nosniff."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.casework.tests.note_helpers import EXE, PDF, register, upload
from caseload.delivery.models import ServiceRecord, Session
from caseload.formbuilder.files import file_ids, store_form_file
from caseload.formbuilder.models import FormDefinition, FormExtension, FormFile, ProfileAnswers
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program, make_role
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

FILE_FIELD = {"key": "resume", "type": "file", "label": {"en": "Résumé", "fr": "CV"}}
SPEC = {
    "format": "caseload-form/1",
    "key": "files_test",
    "version": 1,
    "name": {"en": "Files test", "fr": "Test de fichiers"},
    "scope": "client",
    "fields": [
        {"key": "hours", "type": "number", "label": {"en": "Hours", "fr": "Heures"}},
        {"key": "documents", "type": "group", "label": {"en": "Documents", "fr": "Documents"}, "fields": [FILE_FIELD]},
    ],
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def amina(agency):
    return register(agency, given_name="Amina", family_name="Haddad")


@pytest.fixture
def program(agency):
    return make_program(agency, "Settlement")


def store(agency, client, name="letter.pdf", content=PDF, **options) -> FormFile:
    with agency_scope(agency):
        return store_form_file(agency, client, None, upload(name, content), **options)


def answered_in_a_record(agency, program, client, form_file, *, author=None, is_private=False, answers=None) -> ServiceRecord:
    """A service record of ``program`` whose answers hold the file (in a group row)."""
    with agency_scope(agency):
        definition, _created = FormDefinition.objects.get_or_create(
            key=SPEC["key"], version=1, defaults={"name_en": "Files test", "name_fr": "Test", "spec": SPEC}
        )
        session = Session.objects.create(agency=agency, session_type="direct", client=client, program=program)
        return ServiceRecord.objects.create(
            agency=agency,
            session=session,
            client=client,
            program=program,
            definition=definition,
            answers=answers if answers is not None else {"hours": 2, "documents": [{"resume": form_file.pk}]},
            author=author,
            is_private=is_private,
        )


def answered_in_the_profile(agency, client, form_file) -> ProfileAnswers:
    with agency_scope(agency):
        extension = FormExtension.objects.create(agency=agency, form_key="client_profile", version=1, fields=[FILE_FIELD])
        return ProfileAnswers.objects.create(agency=agency, client=client, extension=extension, answers={"resume": form_file.pk})


def download(client, user, form_file):
    client.force_login(user)
    return client.get(reverse("formbuilder:file", args=[form_file.pk]))


class TestStoring:
    def test_it_stores_a_pdf_under_a_generated_name_and_audits_it(self, agency, amina):
        form_file = store(agency, amina)
        assert (form_file.original_name, form_file.content_type, form_file.size) == ("letter.pdf", "application/pdf", len(PDF))
        assert "letter" not in form_file.file.name
        with agency_scope(agency):
            event = AuditEvent.objects.for_agency(agency).get(object_id=str(form_file.pk), object_type="formbuilder.formfile")
        assert event.client_id == amina.pk

    def test_it_refuses_an_executable_renamed_pdf(self, agency, amina, media):
        with pytest.raises(ValidationError) as refused:
            store(agency, amina, "letter.pdf", EXE)
        assert "is not a file type" in refused.value.messages[0]
        with agency_scope(agency):
            assert not FormFile.objects.for_agency(agency).exists()
        assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]

    def test_it_refuses_a_file_over_the_limit(self, settings, agency, amina):
        settings.CASEWORK_ATTACHMENT_MAX_BYTES = 20
        with pytest.raises(ValidationError) as refused:
            store(agency, amina)
        assert "can be at most" in refused.value.messages[0]

    def test_it_refuses_a_file_over_the_questions_own_limit(self, agency, amina):
        with pytest.raises(ValidationError) as refused:
            store(agency, amina, max_size=10)
        assert "this question takes files of at most" in refused.value.messages[0]

    def test_it_refuses_another_agencys_client(self, agency, other_agency):
        stranger = register(other_agency, given_name="Sam", family_name="Lee")
        with pytest.raises(ValidationError):
            store(agency, stranger)

    def test_file_ids_finds_files_in_groups_and_not_numbers(self):
        answers = {"hours": 5, "documents": [{"resume": 5}, {"resume": 9}, {}]}
        assert file_ids(SPEC["fields"], answers) == {5, 9}
        assert file_ids(SPEC["fields"], {"hours": 5}) == set()


class TestDownloading:
    def test_who_sees_the_record_downloads_it_as_an_attachment_with_nosniff(self, client, agency, amina, program, admin):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file)
        response = download(client, admin, form_file)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment") and "letter.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == PDF
        with agency_scope(agency):
            assert AuditEvent.objects.for_agency(agency).filter(action="view", object_id=str(form_file.pk)).exists()

    def test_another_agency_gets_404(self, client, agency, amina, program, outsider):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file)
        assert download(client, outsider, form_file).status_code == 404

    def test_a_member_without_delivery_or_client_permission_gets_403(self, client, agency, amina, program):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file)
        nobody = make_member(agency, make_role(agency, "Greeter", permissions=()).name)
        assert download(client, nobody.user, form_file).status_code == 403

    def test_a_caseworker_of_another_program_gets_404(self, client, agency, amina, program):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file)
        outside = make_member(agency, "Caseworker")
        assert download(client, outside.user, form_file).status_code == 404
        outside.programs.add(program)
        assert download(client, outside.user, form_file).status_code == 200

    def test_a_private_records_file_is_404_for_others(self, client, agency, amina, program, admin):
        author = make_member(agency, "Caseworker")
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file, author=author, is_private=True)
        assert download(client, admin, form_file).status_code == 404
        assert download(client, author.user, form_file).status_code == 200

    def test_a_file_no_answer_holds_is_404(self, client, agency, amina, program, admin):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file, answers={"hours": form_file.pk})
        assert download(client, admin, form_file).status_code == 404

    def test_a_profile_answer_needs_client_view_only(self, client, agency, amina):
        form_file = store(agency, amina)
        answered_in_the_profile(agency, amina, form_file)
        front_desk = make_member(agency, "Front desk")
        assert download(client, front_desk.user, form_file).status_code == 200

    def test_front_desk_gets_404_for_a_service_records_file(self, client, agency, amina, program):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file)
        front_desk = make_member(agency, "Front desk")
        assert download(client, front_desk.user, form_file).status_code == 404

    def test_a_file_missing_from_storage_is_404_not_500(self, client, agency, amina, program, admin):
        form_file = store(agency, amina)
        answered_in_a_record(agency, program, amina, form_file)
        form_file.file.storage.delete(form_file.file.name)
        assert download(client, admin, form_file).status_code == 404

    def test_the_url_sweeps_row_is_a_profile_file_the_front_desk_may_download(self, client, agency):
        from caseload.delivery.tests.sweep import a_form_file

        form_file = a_form_file(agency)
        assert download(client, make_member(agency, "Front desk").user, form_file).status_code == 200
