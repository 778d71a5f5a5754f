"""Shared work: the workspace's history with who made each job, colleagues' job pages and
links, viewers who only watch, re-running a colleague's job, the cap at submit."""

import pytest
from django.urls import reverse

from lipsync_site.jobs.models import Job
from lipsync_site.media import links
from lipsync_site.workspaces.services import remove_member
from tests import factories, mediafactory
from tests.conftest import switch_client_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague_job(team, media_dir):
    video = factories.stored_file(
        team.member, mediafactory.make_video(media_dir / "v.mp4", seconds=1.0), "video", team.workspace
    )
    voice = factories.stored_file(
        team.member, mediafactory.make_audio(media_dir / "a.wav", seconds=1.0), "audio", team.workspace
    )
    job = factories.make_job(team.member, video=video, voice=voice, route_id="local-draft")
    yield job
    job.refresh_from_db()
    if not job.is_terminal:
        factories.end(job)


def start_from(job, **overrides):
    """The new-job form's start step with ``job``'s stored media kept (no upload)."""
    data = {
        "step": "start",
        "shape": "video_audio",
        "video_asset": str(job.source_video_id),
        "voice_assets": str(job.voice_id),
        "route": "local-draft",
        "mismatch_mode": "loop",
        "person_name": "Ada Example",
        "likeness_consent": "on",
        "voice_provenance": "own",
        "no_misuse": "on",
        "confirm_no_face": "on",  # the generated clip is a test pattern, not a face
    }
    data.update(overrides)
    return data


def as_(client, team, role):
    return switch_client_to(client, team.user(role), team.workspace)


def test_history_shows_every_members_job_with_who_made_it(client, team, colleague_job):
    html = as_(client, team, "viewer").get(reverse("jobs:list")).content.decode()
    assert str(colleague_job.id) in html and "team-member" in html
    assert "Jobs in Acme marketing" in html


def test_history_of_another_workspace_does_not_show_it(client, outsider, colleague_job):
    client.force_login(outsider)
    assert str(colleague_job.id) not in client.get(reverse("jobs:list")).content.decode()


def test_a_colleague_opens_the_job_and_sees_who_made_it(client, team, colleague_job):
    html = as_(client, team, "admin").get(reverse("jobs:detail", args=[colleague_job.id])).content.decode()
    assert 'id="job-owner">team-member<' in html
    assert 'id="run-again"' in html and 'id="cancel-job"' in html


def test_a_viewer_watches_but_cannot_cancel_or_run_again(client, team, colleague_job):
    as_(client, team, "viewer")
    html = client.get(reverse("jobs:detail", args=[colleague_job.id])).content.decode()
    assert 'id="run-again"' not in html and 'id="cancel-job"' not in html
    assert client.post(reverse("jobs:cancel", args=[colleague_job.id])).status_code == 403
    assert client.get(reverse("jobs:new")).status_code == 403
    colleague_job.refresh_from_db()
    assert not colleague_job.is_terminal


def test_a_job_page_works_from_another_of_ones_workspaces(client, team, colleague_job):
    """A link from an e-mail opens the job even when another workspace is current."""
    client.force_login(team.admin)
    session = client.session
    session["workspace_id"] = team.admin.memberships.exclude(workspace=team.workspace).get().workspace_id
    session.save()
    assert client.get(reverse("jobs:detail", args=[colleague_job.id])).status_code == 200


def test_signed_links_are_bound_to_a_member_and_die_when_they_leave(team, colleague_job):
    asset = colleague_job.source_video
    token = links.make_token(asset, links.Purpose.DOWNLOAD, user_id=team.viewer.pk)
    assert links.resolve(token, links.Purpose.DOWNLOAD, user=team.viewer)[0] == asset
    with pytest.raises(links.InvalidLink):  # forwarded to a colleague: bound to the viewer
        links.resolve(token, links.Purpose.DOWNLOAD, user=team.admin)
    remove_member(membership=team.membership("viewer"), actor_membership=team.membership("owner"))
    with pytest.raises(links.InvalidLink):
        links.resolve(token, links.Purpose.DOWNLOAD, user=team.viewer)


def test_a_removed_members_jobs_stay_in_the_workspace(client, team, colleague_job):
    remove_member(membership=team.membership("member"), actor_membership=team.membership("owner"))
    html = as_(client, team, "owner").get(reverse("jobs:list")).content.decode()
    assert str(colleague_job.id) in html and "team-member" in html
    client.force_login(team.member)
    assert client.get(reverse("jobs:detail", args=[colleague_job.id])).status_code == 404


def test_a_member_runs_a_colleagues_job_again_and_attests_consent_themselves(client, team, colleague_job):
    as_(client, team, "admin")
    page = client.get(reverse("jobs:new") + f"?from={colleague_job.id}").content.decode()
    assert 'id="rerun-note"' in page
    assert f'name="video_asset" value="{colleague_job.source_video_id}"' in page
    assert f'name="voice_assets" value="{colleague_job.voice_id}"' in page
    response = client.post(reverse("jobs:new"), start_from(colleague_job, person_name="Grace Example"))
    assert response.status_code == 302, response.content.decode()[-2000:]
    again = Job.objects.exclude(pk=colleague_job.pk).get(workspace=team.workspace)
    assert (again.owner, again.attestation.user, again.attestation.person_name) == (
        team.admin,
        team.admin,
        "Grace Example",
    )
    assert (again.source_video_id, again.voice_id) == (colleague_job.source_video_id, colleague_job.voice_id)
    assert again.hold.placed_by == team.admin
    factories.end(again)


def test_another_workspaces_job_cannot_be_run_again(client, outsider, colleague_job):
    client.force_login(outsider)
    assert client.get(reverse("jobs:new") + f"?from={colleague_job.id}").status_code == 404


def test_another_workspaces_files_cannot_be_smuggled_into_a_job(client, outsider, colleague_job):
    client.force_login(outsider)
    client.post(reverse("jobs:new"), start_from(colleague_job))
    assert not Job.objects.filter(owner=outsider).exists()


def test_the_monthly_cap_is_enforced_when_a_member_starts_a_job(client, team, colleague_job):
    membership = team.membership("admin")
    membership.monthly_spend_cap = 3
    membership.save(update_fields=["monthly_spend_cap"])
    as_(client, team, "admin")
    response = client.post(reverse("jobs:new"), start_from(colleague_job))
    assert response.status_code == 400
    assert "your monthly cap leaves you 3" in response.content.decode()
    assert not Job.objects.filter(owner=team.admin).exists()
