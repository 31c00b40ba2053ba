from django.apps import AppConfig


class SiteConfig(AppConfig):
    """No models, so never shown in the admin: the label is all Django needs."""

    name = "songnuan.site"
    label = "site"
