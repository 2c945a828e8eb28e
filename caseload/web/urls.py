from django.urls import path

from caseload.web import views

app_name = "web"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("agency/switch/", views.switch_agency, name="switch_agency"),
    path("drafts/", views.my_drafts, name="drafts"),
    path("reminders/", views.my_reminders, name="reminders"),
    path("outreach/", views.coming_soon, {"section": "outreach"}, name="outreach"),
    path("reports/", views.coming_soon, {"section": "reports"}, name="reports"),
]
