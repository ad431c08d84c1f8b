from django.urls import path

from ownership import views

app_name = "ownership"
urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("<int:pk>/", views.rule_edit, name="rule_edit"),
]
