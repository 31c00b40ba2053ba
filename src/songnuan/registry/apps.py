from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "songnuan.registry"
    verbose_name = _("困难职工档案")
