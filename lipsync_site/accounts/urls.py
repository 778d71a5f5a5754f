from django.urls import path

from lipsync_site.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("language/", views.choose_language, name="choose_language"),
]
