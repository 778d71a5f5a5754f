from django.urls import path

from lipsync_site.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_new, name="new"),
    path("new/upload/", views.job_upload, name="upload"),
    path("rows/", views.job_rows, name="rows"),
    path("compare/", views.job_compare, name="compare"),
    path("<uuid:job_id>/review/", views.job_review, name="review"),
    path("<uuid:job_id>/", views.job_detail, name="detail"),
    path("<uuid:job_id>/status/", views.job_status, name="status"),
    path("<uuid:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("inputs/<str:token>/<str:filename>", views.job_input, name="input"),
    path("hooks/sync/", views.sync_webhook, name="sync_webhook"),
]
