from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "lipsync_site.jobs"
    label = "jobs"

    def ready(self):
        from lipsync_site.credits.invariants import register_settlement_check
        from lipsync_site.jobs.invariants import settlement_problems

        register_settlement_check(settlement_problems)
