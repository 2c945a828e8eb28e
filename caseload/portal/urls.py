"""/portal/: the client-facing pages."""

from django.urls import path

from caseload.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
]
