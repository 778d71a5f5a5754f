import logging

from django.contrib import admin

from lipsync_site.providers import routes
from lipsync_site.providers.base import ProviderError
from lipsync_site.providers.models import RouteOverride

logger = logging.getLogger(__name__)


@admin.register(RouteOverride)
class RouteOverrideAdmin(admin.ModelAdmin):
    list_display = ["route_id", "enabled", "credits_per_second", "minimum_credits", "note", "updated_at"]
    list_editable = ["enabled", "credits_per_second", "minimum_credits"]
    change_list_template = "admin/providers/routeoverride/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "catalog_routes": [
                {"route": route, "simulated": routes.is_simulated(route)} for route in routes.all_routes()
            ],
            "nemo_balance": nemo_balance_for_admin(),
        }
        return super().changelist_view(request, extra_context=extra_context)


def nemo_balance_for_admin() -> dict:
    """NemoVideo's credit balance, or why it is unknown. Never raises into the admin."""
    from lipsync_site.providers.registry import get_provider

    try:
        return {"ok": True, **get_provider("nemovideo").balance()}
    except ProviderError as exc:
        return {"ok": False, "error": exc.message}
    except Exception:
        logger.exception("reading the NemoVideo balance failed")
        return {"ok": False, "error": "The balance could not be read (see the log)."}
