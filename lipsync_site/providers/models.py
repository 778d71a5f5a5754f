"""What an admin can change about the providers without a deploy, and the provider
credentials we obtain at run time (never shown: not in the admin, logs or pages)."""

from django.db import models

from lipsync_site.providers.catalog import ROUTES


def _route_choices():
    return [(route.id, f"{route.label} ({route.id})") for route in ROUTES]


class RouteOverride(models.Model):
    """An admin's change to one catalog route: switch it off, or change its price."""

    route_id = models.CharField(max_length=64, unique=True, choices=_route_choices)
    enabled = models.BooleanField(default=True, help_text="Off: the route is not offered on the form.")
    credits_per_second = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the catalog's price. 1 credit = $0.01."
    )
    minimum_credits = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the catalog's minimum.")
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["route_id"]

    def __str__(self) -> str:
        return self.route_id


class ProviderCredential(models.Model):
    """A token a provider handed us at run time (NemoVideo's starter token).

    Shared through the database so every worker and tracker uses the same account, and
    the session a request lives in stays reachable from another process.
    """

    provider = models.CharField(max_length=32, unique=True)
    token = models.TextField()
    client_id = models.CharField(max_length=64, blank=True)
    obtained_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.provider} credential"
