from django.urls import path

from onboarding import views

app_name = "onboarding"
urlpatterns = [
    path("", views.setup, name="setup"),
    path("match/", views.match_start, name="match_start"),
    path("match/progress/", views.match_progress, name="match_progress"),
    path("properties/", views.properties_make, name="properties"),
    path("rules-reviewed/", views.rules_reviewed, name="rules_reviewed"),
    path("proposals/", views.proposal_list, name="proposals"),
]
