from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("news/", views.home_news, name="news"),
    path("trail/<str:system>/<str:type>/<str:ref>/", views.trail, name="trail"),
]
