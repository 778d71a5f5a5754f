from django.urls import path

from lipsync_site.media import views

app_name = "media"
urlpatterns = [
    path("files/<str:purpose>/<str:token>/", views.signed_file, name="file"),
]
