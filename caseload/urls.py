from django.urls import include, path

urlpatterns = [
    path("clients/", include("caseload.clients.urls")),
    path("portal/", include("caseload.portal.urls")),
    path("", include("caseload.casework.urls")),
    path("", include("caseload.delivery.urls")),
    path("", include("caseload.outcomes.urls")),
    path("", include("caseload.documents.urls")),
    path("", include("caseload.formbuilder.urls")),
    path("", include("caseload.web.urls")),
    path("accounts/", include("caseload.accounts.urls")),
    path("admin/agency/", include("caseload.tenancy.urls")),
    path("admin/audit/", include("caseload.audit.urls")),
    path("admin/outbox/", include("caseload.messaging.urls")),
    path("api/", include("caseload.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler500 = "caseload.web.middleware.server_error"
