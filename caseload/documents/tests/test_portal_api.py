"""The portal's My documents page and the documents API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.casework.tests.comm_helpers import portal_client
from caseload.documents.models import Document
from caseload.documents.tests.helpers import EXE, doc_type, pdf, upload
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db

PORTAL = "/portal/documents/"


@pytest.fixture
def zara(agency):
    return portal_client(agency, email="zara@example.org", given_name="Zara")


class TestPortal:
    def test_a_client_uploads_a_document_and_sees_only_their_uploads(self, client, agency, zara, caseworker):
        upload(zara, caseworker, name="internal-assessment.pdf")  # filed by staff: not shown
        client.force_login(zara.portal_user)
        assert "My documents" in client.get("/portal/").content.decode()
        response = client.post(PORTAL, {"file": pdf("paystub.pdf"), "document_type": doc_type(agency, "Pay stub").pk})
        assert response.status_code == 302
        html = client.get(PORTAL).content.decode()
        assert "paystub.pdf" in html and "internal-assessment.pdf" not in html
        with agency_scope(agency):
            document = Document.objects.for_agency(agency).get(original_name="paystub.pdf")
        assert document.from_portal and document.client == zara

    def test_a_bad_file_is_a_named_error(self, client, agency, zara):
        client.force_login(zara.portal_user)
        response = client.post(PORTAL, {"file": pdf("x.pdf", EXE), "document_type": doc_type(agency).pk})
        assert response.status_code == 400 and "“x.pdf” is not a file type" in response.content.decode()

    def test_the_client_downloads_their_own_and_gets_a_404_for_anyone_elses(self, client, agency, zara, amina):
        own = upload(zara, zara.portal_user, name="mine.pdf", from_portal=True)
        staff_filed = upload(zara, None, name="staff.pdf")
        someone_else = upload(amina, None, name="other.pdf", from_portal=True)
        client.force_login(zara.portal_user)
        assert client.get(reverse("documents:download", args=[own.pk])).status_code == 200
        assert client.get(reverse("documents:download", args=[someone_else.pk])).status_code == 404
        assert client.get(reverse("documents:download", args=[staff_filed.pk])).status_code == 404

    def test_staff_get_a_404_on_the_portal_page(self, client, caseworker):
        client.force_login(caseworker)
        assert client.get(PORTAL).status_code == 404


class TestApi:
    def test_list_by_client_and_retrieve_with_a_download_url(self, api, agency, amina, bo, caseworker):
        mine = upload(amina)
        upload(bo)
        api.as_user(caseworker)
        rows = api.get("/api/v1/documents/", {"client": amina.pk}).json()["results"]
        assert [row["id"] for row in rows] == [mine.pk]
        detail = api.get(f"/api/v1/documents/{mine.pk}/").json()
        assert detail["download_url"].endswith(f"/documents/{mine.pk}/download/") and detail["original_name"] == "resume.pdf"

    def test_upload_patch_and_delete(self, api, agency, amina, caseworker):
        api.as_user(caseworker)
        data = {"client": amina.pk, "document_type": doc_type(agency).pk, "file": pdf("cv.pdf"), "description": "2026"}
        response = api.post("/api/v1/documents/", data, format="multipart")
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        patched = api.patch(f"/api/v1/documents/{pk}/", {"document_type": doc_type(agency, "Other").pk}, format="json")
        assert patched.status_code == 200 and patched.json()["document_type"] == doc_type(agency, "Other").pk
        assert api.delete(f"/api/v1/documents/{pk}/").status_code == 204
        assert api.get(f"/api/v1/documents/{pk}/").status_code == 404

    def test_a_bad_file_or_foreign_type_is_a_400_naming_the_field(self, api, agency, other_agency, amina, caseworker):
        api.as_user(caseworker)
        data = {"client": amina.pk, "document_type": doc_type(agency).pk, "file": pdf("x.pdf", EXE)}
        response = api.post("/api/v1/documents/", data, format="multipart")
        assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "file"
        data = {"client": amina.pk, "document_type": doc_type(other_agency).pk, "file": pdf()}
        response = api.post("/api/v1/documents/", data, format="multipart")
        assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "document_type"

    def test_another_agencys_document_is_a_404(self, api, amina, outsider):
        assert api.as_user(outsider).get(f"/api/v1/documents/{upload(amina).pk}/").status_code == 404

    def test_document_types_are_listed(self, api, caseworker):
        names = [row["name"] for row in api.as_user(caseworker).get("/api/v1/document-types/").json()["results"]]
        assert "Resume" in names and "Pay stub" in names
