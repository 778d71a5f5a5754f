from django.urls import path

from lipsync_site.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
]
