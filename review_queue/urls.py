from django.urls import path

from review_queue import views

app_name = "review_queue"
urlpatterns = [
    path("", views.item_list, name="list"),
    path("<int:pk>/", views.item_detail, name="detail"),
    path("<int:pk>/resolve/", views.item_resolve, name="resolve"),
]
