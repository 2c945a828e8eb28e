from caseload.formbuilder import admin_views, file_views

app_name = "formbuilder"

urlpatterns = [*file_views.urlpatterns, *admin_views.urlpatterns]
