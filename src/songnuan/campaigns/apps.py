from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "songnuan.campaigns"
    verbose_name = _("送温暖活动")
