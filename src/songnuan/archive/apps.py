from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "songnuan.archive"
    verbose_name = _("困难职工档案")
