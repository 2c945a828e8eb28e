from django.urls import path

from caseload.clients import profile_views
from caseload.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.agency_settings, name="agency_settings"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/new/", views.program_create, name="program_create"),
    path("programs/<int:pk>/", views.program_detail, name="program_detail"),
    path("programs/<int:pk>/edit/", views.program_edit, name="program_edit"),
    path("programs/<int:pk>/delete/", views.program_delete, name="program_delete"),
    path("programs/<int:pk>/staff/add/", views.program_staff_add, name="program_staff_add"),
    path("programs/<int:pk>/staff/remove/", views.program_staff_remove, name="program_staff_remove"),
    path("funders/", views.funder_list, name="funder_list"),
    path("privacy-statement/", profile_views.privacy_statements, name="privacy_statements"),
    path("funders/new/", views.funder_create, name="funder_create"),
    path("funders/<int:pk>/", views.funder_edit, name="funder_edit"),
    path("funders/<int:pk>/delete/", views.funder_delete, name="funder_delete"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_add, name="staff_add"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
]
