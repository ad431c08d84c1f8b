from django.urls import path

from review_queue import views

app_name = "review_queue"
urlpatterns = [
    path("", views.item_list, name="list"),
    path("bulk/", views.bulk, name="bulk"),
    path("news/", views.item_news, name="news"),
    path("notifications/", views.notifications, name="notifications"),
    path("<int:pk>/", views.item_detail, name="detail"),
    path("<int:pk>/preview/", views.item_preview, name="preview"),
    path("<int:pk>/resolve/", views.item_resolve, name="resolve"),
    path("<int:pk>/assign/", views.item_assign, name="assign"),
]
