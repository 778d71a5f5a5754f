"""The workspace's API page: tokens (made and revoked by owners and admins, the secret
shown once) and webhooks (URL, events, the delivery log, send again)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from ninja.openapi.views import openapi_view

from lipsync_site.api import services
from lipsync_site.api.endpoints import api
from lipsync_site.api.forms import TokenForm, WebhookForm
from lipsync_site.api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from lipsync_site.view_access import public_view
from lipsync_site.workspaces.access import workspace_required
from lipsync_site.workspaces.roles import Capability

# Tokens and webhooks are the workspace's keys: managed by whoever manages its members.
MANAGE = Capability.MANAGE_MEMBERS


def _page(request, *, token_form=None, webhook_form=None, secret="", status=200):
    workspace = request.access.workspace
    endpoints = list(WebhookEndpoint.objects.filter(workspace=workspace))
    for endpoint in endpoints:
        endpoint.recent = list(endpoint.deliveries.all()[:10])
    context = {
        "workspace": workspace,
        "tokens": ApiToken.objects.filter(workspace=workspace).select_related("created_by"),
        "token_form": token_form or TokenForm(),
        "webhook_form": webhook_form or WebhookForm(),
        "endpoints": endpoints,
        "new_secret": secret,
    }
    return render(request, "api/settings.html", context, status=status)


@workspace_required(MANAGE)
@require_GET
def settings_page(request):
    return _page(request)


@workspace_required(MANAGE)
@require_POST
def create_token(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, token_form=form, status=400)
    days = form.cleaned_data.get("expires_in_days")
    issued = services.create_token(
        workspace=request.access.workspace,
        created_by=request.user,
        name=form.cleaned_data["name"],
        scopes=form.cleaned_data["scopes"],
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    messages.success(
        request, gettext("Token “%(name)s” created. Copy it now: it is not shown again.") % {"name": issued.token.name}
    )
    return _page(request, secret=issued.secret)


@workspace_required(MANAGE)
@require_POST
def revoke_token(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, workspace=request.access.workspace)
    if services.revoke_token(token=token):
        messages.success(
            request, gettext("Token “%(name)s” revoked: its next request is refused.") % {"name": token.name}
        )
    return redirect("api-settings:settings")


@workspace_required(MANAGE)
@require_http_methods(["POST"])
def create_webhook(request):
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            endpoint = services.create_webhook(
                workspace=request.access.workspace,
                created_by=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
            )
        except services.WebhookRefused as exc:
            form.add_error("url", gettext(str(exc)))
        else:
            messages.success(
                request, gettext("Webhook added. Its signing secret: %(secret)s") % {"secret": endpoint.secret}
            )
            return redirect("api-settings:settings")
    return _page(request, webhook_form=form, status=400)


@workspace_required(MANAGE)
@require_POST
def delete_webhook(request, endpoint_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id, workspace=request.access.workspace)
    services.delete_webhook(endpoint=endpoint)
    messages.success(request, gettext("Webhook removed."))
    return redirect("api-settings:settings")


@workspace_required(MANAGE)
@require_POST
def send_again(request, delivery_id):
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint"), pk=delivery_id, endpoint__workspace=request.access.workspace
    )
    services.send_again(delivery=delivery)
    messages.success(
        request,
        gettext("%(event)s queued again for %(url)s.") % {"event": delivery.event, "url": delivery.endpoint.url},
    )
    return redirect("api-settings:settings")


@public_view("the API's interactive documentation: describes the API, shows no one's data")
@require_GET
def docs(request):
    return openapi_view(request, api=api)


@public_view("answers 404 in the API's JSON for a path the API does not have; shows nothing")
def unknown_endpoint(request, rest: str = ""):
    return JsonResponse({"code": "not_found", "message": "The API has no such endpoint; see /api/docs."}, status=404)
