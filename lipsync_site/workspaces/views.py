from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lipsync_site.accounts.signup import allow_signup_by_invitation
from lipsync_site.workspaces import emails, selectors, services
from lipsync_site.workspaces.access import (
    current_access,
    public_view,
    signed_in_view,
    switch_to,
    workspace_required,
)
from lipsync_site.workspaces.forms import InviteForm, RoleForm, SpendCapForm, SwitchForm, WorkspaceForm
from lipsync_site.workspaces.models import Invitation, Membership
from lipsync_site.workspaces.roles import Capability, Role, invitable_roles
from lipsync_site.workspaces.services import InvitationInvalid, WorkspaceRefused


def _refused(request, exc: WorkspaceRefused):
    messages.error(request, str(exc))
    return redirect("workspaces:members")


@signed_in_view("the user's own list of workspaces, and a form to start one")
@login_required
@require_http_methods(["GET", "POST"])
def workspace_list(request):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.create_workspace(name=form.cleaned_data["name"], owner=request.user)
        switch_to(request, workspace.pk)
        messages.success(request, f"{workspace.name} is ready: invite your colleagues.")
        return redirect("workspaces:members")
    return render(
        request,
        "workspaces/list.html",
        {"memberships": selectors.memberships_of(request.user), "form": form, "access": current_access(request)},
    )


@signed_in_view("tells a signed-in user they belong to no workspace yet")
@login_required
@require_GET
def no_workspace(request):
    if current_access(request) is not None:
        return redirect("jobs:list")
    return render(request, "workspaces/none.html", {"form": WorkspaceForm()})


@signed_in_view("switches among the user's own workspaces; membership is checked")
@login_required
@require_POST
def switch(request):
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return redirect("workspaces:list")
    access = switch_to(request, form.cleaned_data["workspace"])
    messages.info(request, gettext("You are working in %(name)s.") % {"name": access.workspace.name})
    target = form.cleaned_data["next"]
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("jobs:list")


@workspace_required(Capability.VIEW)
@require_GET
def members(request):
    access = request.access
    workspace = access.workspace
    roles = invitable_roles(access.role)
    return render(
        request,
        "workspaces/members.html",
        {
            "access": access,
            "workspace": workspace,
            "members": selectors.members_of(workspace),
            "invitations": selectors.open_invitations(workspace) if access.can(Capability.MANAGE_MEMBERS) else [],
            "invite_form": InviteForm(roles=roles) if roles else None,
            "rename_form": WorkspaceForm(initial={"name": workspace.name}),
            "roles": Role.choices,
            "can_manage_members": access.can(Capability.MANAGE_MEMBERS),
            "can_manage_roles": access.can(Capability.MANAGE_ROLES),
            "can_bill": access.can(Capability.BILLING),
        },
    )


@workspace_required(Capability.MANAGE_MEMBERS)
@require_POST
def invite(request):
    access = request.access
    form = InviteForm(request.POST, roles=invitable_roles(access.role))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("workspaces:members")
    try:
        with transaction.atomic():
            invitation = services.invite_member(
                workspace=access.workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor_membership=access.membership,
            )
            transaction.on_commit(lambda: emails.send_invitation(invitation.pk))
    except WorkspaceRefused as exc:
        return _refused(request, exc)
    messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": invitation.email})
    return redirect("workspaces:members")


@workspace_required(Capability.MANAGE_MEMBERS)
@require_POST
def revoke(request, invitation_id):
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=request.access.workspace)
    try:
        services.revoke_invitation(invitation=invitation, actor_membership=request.access.membership)
    except WorkspaceRefused as exc:
        return _refused(request, exc)
    messages.success(request, gettext("The invitation to %(email)s was withdrawn.") % {"email": invitation.email})
    return redirect("workspaces:members")


@workspace_required(Capability.MANAGE_ROLES)
@require_POST
def change_role(request, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, workspace=request.access.workspace)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            membership = services.change_role(
                membership=membership, role=form.cleaned_data["role"], actor_membership=request.access.membership
            )
        except WorkspaceRefused as exc:
            return _refused(request, exc)
        messages.success(request, f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.")
    return redirect("workspaces:members")


@workspace_required(Capability.BILLING)
@require_POST
def set_cap(request, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, workspace=request.access.workspace)
    form = SpendCapForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("A cap is a whole number of credits, or empty for none."))
        return redirect("workspaces:members")
    cap = form.cleaned_data["monthly_spend_cap"]
    services.set_spend_cap(membership=membership, monthly_cap=cap, actor_membership=request.access.membership)
    who = membership.user.get_username()
    messages.success(request, f"{who} may spend {cap} credits a month." if cap is not None else f"{who} has no cap.")
    return redirect("workspaces:members")


@workspace_required(Capability.MANAGE_MEMBERS)
@require_POST
def remove(request, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, workspace=request.access.workspace)
    try:
        services.remove_member(membership=membership, actor_membership=request.access.membership)
    except WorkspaceRefused as exc:
        return _refused(request, exc)
    messages.success(request, f"{membership.user.get_username()} was removed; their jobs stay in the workspace.")
    return redirect("workspaces:members")


@workspace_required(Capability.VIEW)
@require_POST
def leave(request):
    workspace = request.access.workspace
    try:
        services.leave_workspace(membership=request.access.membership)
    except WorkspaceRefused as exc:
        return _refused(request, exc)
    messages.success(request, gettext("You left %(name)s.") % {"name": workspace.name})
    return redirect("workspaces:list")


@workspace_required(Capability.BILLING)
@require_POST
def rename(request):
    form = WorkspaceForm(request.POST)
    if form.is_valid():
        services.rename_workspace(workspace=request.access.workspace, name=form.cleaned_data["name"])
        messages.success(request, gettext("Workspace renamed."))
    return redirect("workspaces:members")


@public_view("the invitation link from the e-mail: its signed, single-use token is the permission")
@require_http_methods(["GET", "POST"])
def join(request, token):
    """GET shows the invitation; POST (signed in as the invited address) accepts it.

    A visitor without an account is sent to sign-up, open to them for the invited address
    only; the account joins the workspace as it is made (see signals)."""
    try:
        invitation = services.read_invitation(token)
    except InvitationInvalid as exc:
        return render(request, "workspaces/join.html", {"problem": str(exc)}, status=404)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            membership = services.accept_invitation(invitation=invitation, user=request.user)
        except InvitationInvalid as exc:
            return render(request, "workspaces/join.html", {"invitation": invitation, "problem": str(exc)}, status=403)
        switch_to(request, membership.workspace_id)
        messages.success(request, gettext("Welcome to %(name)s.") % {"name": membership.workspace.name})
        return redirect("jobs:list")
    if not request.user.is_authenticated:
        allow_signup_by_invitation(request, invitation_id=invitation.pk, email=invitation.email)
    already_member = request.user.is_authenticated and selectors.is_member(
        workspace_id=invitation.workspace_id, user=request.user
    )
    return render(
        request, "workspaces/join.html", {"invitation": invitation, "token": token, "already_member": already_member}
    )
