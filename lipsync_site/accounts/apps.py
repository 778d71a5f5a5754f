from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lipsync_site.accounts"
    label = "accounts"
