from django.urls import path

from lipsync_site.api import views

app_name = "api-settings"
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("tokens/", views.create_token, name="create_token"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("webhooks/", views.create_webhook, name="create_webhook"),
    path("webhooks/<int:endpoint_id>/delete/", views.delete_webhook, name="delete_webhook"),
    path("deliveries/<uuid:delivery_id>/send-again/", views.send_again, name="send_again"),
]
