from django.urls import path

from lipsync_site.credits import views

app_name = "credits"
urlpatterns = [path("", views.credits_page, name="page")]
