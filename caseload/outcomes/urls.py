"""The outcomes pages: each topic's views module declares its own ``urlpatterns``."""

from caseload.outcomes import survey_views, views

app_name = "outcomes"

urlpatterns = [
    *views.urlpatterns,
    *survey_views.urlpatterns,
]
