"""/portal/: the client-facing pages."""

from django.urls import path

from caseload.documents import portal_views as document_views
from caseload.outcomes import survey_views
from caseload.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    *survey_views.portal_urlpatterns,
    path("documents/", document_views.documents, name="documents"),
]
