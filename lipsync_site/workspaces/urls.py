from django.urls import path

from lipsync_site.workspaces import views

app_name = "workspaces"
urlpatterns = [
    path("", views.workspace_list, name="list"),
    path("none/", views.no_workspace, name="none"),
    path("switch/", views.switch, name="switch"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.invite, name="invite"),
    path("members/<int:membership_id>/role/", views.change_role, name="change_role"),
    path("members/<int:membership_id>/cap/", views.set_cap, name="set_cap"),
    path("members/<int:membership_id>/remove/", views.remove, name="remove"),
    path("invitations/<uuid:invitation_id>/revoke/", views.revoke, name="revoke"),
    path("leave/", views.leave, name="leave"),
    path("rename/", views.rename, name="rename"),
    path("join/<str:token>/", views.join, name="join"),
]
