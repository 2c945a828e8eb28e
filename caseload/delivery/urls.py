"""The service-delivery pages: each topic's views module declares its own ``urlpatterns``."""

from caseload.delivery import course_views, export_views, plan_views, session_views

app_name = "delivery"

urlpatterns = [
    *session_views.urlpatterns,
    *plan_views.urlpatterns,
    *course_views.urlpatterns,
    *export_views.urlpatterns,
]
