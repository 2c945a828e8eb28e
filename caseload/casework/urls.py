"""The casework pages: each topic's views module declares its own ``urlpatterns``."""

from caseload.casework import (
    batch_views,
    communication_views,
    directory_views,
    export_views,
    history_views,
    note_views,
    referral_views,
    service_views,
    task_views,
)

app_name = "casework"

urlpatterns = [
    *note_views.urlpatterns,
    *communication_views.urlpatterns,
    *service_views.urlpatterns,
    *task_views.urlpatterns,
    *referral_views.urlpatterns,
    *directory_views.urlpatterns,
    *batch_views.urlpatterns,
    *history_views.urlpatterns,
    *export_views.urlpatterns,
]
