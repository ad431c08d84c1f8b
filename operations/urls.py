from django.urls import path

from operations import views

app_name = "operations"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("<str:number>/", views.job_detail, name="job_detail"),
]
