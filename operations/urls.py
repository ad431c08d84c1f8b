from django.urls import path

from operations import views

app_name = "operations"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("schedule/", views.job_schedule, name="schedule"),
    path("news/", views.job_news, name="job_news"),
    path("import/", views.job_import, name="job_import"),
    path("import/<int:pk>/", views.job_import_preview, name="job_import_preview"),
    path("import/<int:pk>/progress/", views.job_import_progress, name="job_import_progress"),
    path("<str:number>/", views.job_detail, name="job_detail"),
    path("<str:number>/evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("<str:number>/finance/", views.job_finance, name="job_finance"),
    path("<str:number>/<str:action>/", views.job_act, name="job_act"),
]
