from django.urls import path

from caseload.clients import action_views, import_views, merge_views, profile_views, referral_views, views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("new/", profile_views.client_register, name="register"),
    path("<int:pk>/edit/", profile_views.client_edit, name="edit"),
    path("<int:pk>/consent/", profile_views.client_consent, name="consent"),
    # The profile's Actions menu (clients/action_views.py).
    path("<int:pk>/assign/", action_views.assign, name="assign"),
    path("<int:pk>/assign-me/", action_views.assign_me, name="assign_me"),
    path("<int:pk>/unassign/", action_views.unassign, name="unassign"),
    path("<int:pk>/flag/", action_views.flag, name="flag"),
    path("<int:pk>/unflag/", action_views.unflag, name="unflag"),
    path("<int:pk>/archive/", action_views.archive, name="archive"),
    path("<int:pk>/unarchive/", action_views.unarchive, name="unarchive"),
    path("<int:pk>/cams/link/", action_views.cams_link, name="cams_link"),
    path("<int:pk>/cams/unlink/", action_views.cams_unlink, name="cams_unlink"),
    path("<int:pk>/portal/invite/", action_views.portal_invite, name="portal_invite"),
    path("<int:pk>/portal/resend-invite/", action_views.portal_resend, name="portal_resend"),
    path("<int:pk>/portal/password-reset/", action_views.portal_reset, name="portal_reset"),
    path("<int:pk>/enrol/", action_views.enrol, name="enrol"),
    path("<int:pk>/end-enrolment/", action_views.end_enrolment, name="end_enrolment"),
    # Referrals (clients/referral_views.py).
    path("<int:pk>/refer/", referral_views.refer_to_agency, name="refer"),
    path("<int:pk>/refer/outside/", referral_views.refer_outside, name="refer_outside"),
    path("referrals/<int:pk>/withdraw/", referral_views.withdraw_referral, name="referral_withdraw"),
    path("referrals/incoming/", referral_views.incoming_list, name="incoming_referrals"),
    path("referrals/incoming/<int:pk>/accept/", referral_views.accept_incoming, name="incoming_accept"),
    path("referrals/incoming/<int:pk>/decline/", referral_views.decline_incoming, name="incoming_decline"),
    # Merge and unmerge (clients/merge_views.py).
    path("<int:pk>/merge/", merge_views.merge_client, name="merge"),
    path("merges/", merge_views.merge_list, name="merge_list"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo, name="merge_undo"),
    # Importing existing clients (clients/import_views.py).
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_upload, name="import_upload"),
    path("imports/template.csv", import_views.import_template, {"kind": "csv"}, name="import_template_csv"),
    path("imports/template.xlsx", import_views.import_template, {"kind": "xlsx"}, name="import_template_xlsx"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/cancel/", import_views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/report.csv", import_views.import_report, name="import_report"),
]
