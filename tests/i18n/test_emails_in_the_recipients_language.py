"""E-mails go out in the recipient's language, not in the language of whoever caused them."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from lipsync_site.jobs.models import Job
from lipsync_site.jobs.notifications import notify_owner
from lipsync_site.workspaces.emails import send_invitation
from lipsync_site.workspaces.services import invite_member
from tests.jobs.test_end_to_end import form_data

pytestmark = pytest.mark.django_db


def test_a_job_ending_is_told_in_the_owners_language_whoever_ended_it(owner_client, owner, clip, voice):
    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    owner_client.post(reverse("jobs:new"), form_data(clip, voice), HTTP_ACCEPT_LANGUAGE="en")
    job = Job.objects.get(owner=owner)
    owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    translation.activate("en")  # the worker (or a moderator) works in English
    assert notify_owner(job.pk) is True
    message = mail.outbox[-1]
    assert message.subject == "你的口型同步任务已取消"
    assert "：已取消。" in message.body and "在这里查看（请先登录）" in message.body
    assert translation.get_language() == "en"  # the override did not leak


def test_an_english_owner_still_gets_english_from_a_chinese_session(owner_client, owner, clip, voice):
    owner_client.post(reverse("jobs:new"), form_data(clip, voice))
    job = Job.objects.get(owner=owner)
    owner_client.post(reverse("jobs:cancel", args=[job.pk]))
    with translation.override("zh-hans"):
        notify_owner(job.pk)
    assert mail.outbox[-1].subject == "Your lip-sync job was cancelled"


def test_an_invitation_is_written_in_the_invitees_language_when_they_have_an_account(team, outsider):
    outsider.language = "zh-hans"
    outsider.save(update_fields=["language"])
    invitation = invite_member(
        workspace=team.workspace, email=outsider.email, role="member", actor_membership=team.membership("owner")
    )
    mail.outbox.clear()
    assert send_invitation(invitation.pk)
    message = mail.outbox[-1]
    assert "邀请你加入 Acme marketing" in message.subject
    assert "打开此链接即可接受邀请" in message.body


def test_an_invitation_to_a_new_address_follows_the_inviters_language(team):
    team.owner.language = "zh-hans"
    team.owner.save(update_fields=["language"])
    invitation = invite_member(
        workspace=team.workspace, email="newcomer@example.com", role="viewer", actor_membership=team.membership("owner")
    )
    mail.outbox.clear()
    send_invitation(invitation.pk)
    assert "以查看者身份加入" in mail.outbox[-1].body
