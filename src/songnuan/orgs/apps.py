from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "songnuan.orgs"
    verbose_name = _("组织与账号")
