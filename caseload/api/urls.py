"""/api/: the v1 endpoints, the OpenAPI schema and its docs page.

The schema (/api/schema/) and the docs (/api/docs/, Swagger UI served from the app by
drf-spectacular-sidecar) are public: they describe an open-source API and hold no agency data.
Every endpoint under /api/v1/ except POST auth/token/ needs a token or a session.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from caseload.accounts.middleware import two_factor_exempt
from caseload.api import views
from caseload.audit.api import AuditEventViewSet
from caseload.casework.api_batch import BatchViewSet, ClientListViewSet, ExportViewSet
from caseload.casework.api_communications import CommunicationViewSet, NotificationViewSet
from caseload.casework.api_history import ClientHistoryView
from caseload.casework.api_notes import CaseNoteViewSet
from caseload.casework.api_referrals import (
    ContactViewSet,
    LocationViewSet,
    OrganisationViewSet,
    ServiceReferralViewSet,
    ServiceViewSet,
)
from caseload.casework.api_services import GrantViewSet, ServiceTypeViewSet, SupportiveServiceViewSet
from caseload.casework.api_tasks import TaskViewSet
from caseload.clients.api import ClientViewSet
from caseload.clients.refmerge_api import IncomingReferralViewSet, MergeViewSet, ReferralViewSet
from caseload.delivery.api import FormDefinitionViewSet, ServiceRecordViewSet, SessionViewSet
from caseload.delivery.api_plans import SettlementPlanViewSet
from caseload.documents.api import DocumentTypeViewSet, DocumentViewSet
from caseload.messaging.api import MessageTemplateViewSet, OutboundMessageViewSet
from caseload.outcomes.api import CheckpointViewSet, PlacementViewSet
from caseload.tenancy.api import AgencyViewSet, FunderViewSet, ProgramViewSet, RoleViewSet, StaffViewSet

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router(use_regex_path=False)
router.register("agencies", AgencyViewSet, basename="agency")
router.register("programs", ProgramViewSet, basename="program")
router.register("funders", FunderViewSet, basename="funder")
router.register("roles", RoleViewSet, basename="role")
router.register("staff", StaffViewSet, basename="staff")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("messages", OutboundMessageViewSet, basename="message")
router.register("message-templates", MessageTemplateViewSet, basename="message-template")
router.register("clients", ClientViewSet, basename="client")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("incoming-referrals", IncomingReferralViewSet, basename="incoming-referral")
router.register("merges", MergeViewSet, basename="merge")
router.register("communications", CommunicationViewSet, basename="communication")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("tasks", TaskViewSet, basename="task")
router.register("case-notes", CaseNoteViewSet, basename="case-note")
router.register("supportive-services", SupportiveServiceViewSet, basename="supportive-service")
router.register("service-types", ServiceTypeViewSet, basename="service-type")
router.register("grants", GrantViewSet, basename="grant")
router.register("batches", BatchViewSet, basename="batch")
router.register("client-lists", ClientListViewSet, basename="client-list")
router.register("exports", ExportViewSet, basename="export")
router.register("service-referrals", ServiceReferralViewSet, basename="service-referral")
router.register("directory/organisations", OrganisationViewSet, basename="directory-organisation")
router.register("directory/services", ServiceViewSet, basename="directory-service")
router.register("directory/locations", LocationViewSet, basename="directory-location")
router.register("directory/contacts", ContactViewSet, basename="directory-contact")
router.register("form-definitions", FormDefinitionViewSet, basename="form-definition")
router.register("sessions", SessionViewSet, basename="session")
router.register("service-records", ServiceRecordViewSet, basename="service-record")
router.register("settlement-plans", SettlementPlanViewSet, basename="settlement-plan")
router.register("outcome-placements", PlacementViewSet, basename="outcome-placement")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("documents", DocumentViewSet, basename="document")
router.register("document-types", DocumentTypeViewSet, basename="document-type")

v1 = [
    # The token endpoint asks for the two-factor code itself.
    path("auth/token/", two_factor_exempt(views.TokenView.as_view()), name="auth-token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("clients/<int:pk>/history/", ClientHistoryView.as_view(), name="client-history"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("v1/", include(v1)),
    # No agency data in these: reachable before an agency's two-factor requirement is met.
    path("schema/", two_factor_exempt(views.SchemaView.as_view()), name="schema"),
    path("docs/", two_factor_exempt(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
    re_path(r"^(?P<path>.*)$", two_factor_exempt(views.not_found)),
]
