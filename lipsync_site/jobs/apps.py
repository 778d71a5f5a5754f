from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "lipsync_site.jobs"
    verbose_name = _("Jobs")
    label = "jobs"

    def ready(self):
        from lipsync_site.credits.invariants import register_settlement_check
        from lipsync_site.jobs.invariants import settlement_problems

        register_settlement_check(settlement_problems)
