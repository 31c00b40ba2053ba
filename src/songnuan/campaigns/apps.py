from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "songnuan.campaigns"
    verbose_name = _("送温暖活动")

    def ready(self) -> None:
        # formkit stays free of Django (the command line uses it too): its messages follow the request's
        # language only once Django's gettext is installed as its translator.
        from django.utils.translation import gettext

        from songnuan.formkit.i18n import use_translator

        use_translator(gettext)
