"""The document archive's pages: each views module declares its own ``urlpatterns``."""

from caseload.documents import attach_views, views

app_name = "documents"

urlpatterns = [
    *views.urlpatterns,
    *attach_views.urlpatterns,
]
