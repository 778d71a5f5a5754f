"""History: search and filters in the URL, keyset pages, live rows, credits as the ledger
has them, human route names, and nothing of anyone else's."""

import re

import pytest
from django.urls import reverse

from lipsync_site.jobs.models import Job, Status
from lipsync_site.jobs.selectors import cursor_of
from tests import factories, studio

pytestmark = pytest.mark.django_db


def rows(html):
    return re.findall(r'id="job-row-([0-9a-f-]{36})"', html)


@pytest.fixture
def jobs(owner, make_job):
    french = studio.titled(make_job(), "Launch video French dub", names=["launch.mp4", "voice-fr.wav"])
    kling = studio.titled(make_job(route_id="kling-lipsync-audio"), "Launch video Kling", speaker="Chloé Martin")
    local = studio.titled(make_job(route_id="local-draft"), "Draft German")
    factories.end(local)
    return {"french": french, "kling": kling, "local": local}


def test_search_matches_title_file_name_and_speaker(owner_client, jobs):
    def found(q):
        return set(rows(owner_client.get(reverse("jobs:list"), {"q": q}).content.decode()))

    assert found("french") == {str(jobs["french"].id)}
    assert found("VOICE-FR") == {str(jobs["french"].id)}
    assert found("chloé") == {str(jobs["kling"].id)}
    assert found("launch video") == {str(jobs["french"].id), str(jobs["kling"].id)}


def test_filters_by_state_route_and_shape_and_says_how_many_match(owner_client, jobs):
    html = owner_client.get(reverse("jobs:list"), {"state": "failed"}).content.decode()
    assert rows(html) == [str(jobs["local"].id)]
    assert "1 job matches" in html
    html = owner_client.get(reverse("jobs:list"), {"route": "kling-lipsync-audio"}).content.decode()
    assert rows(html) == [str(jobs["kling"].id)]
    html = owner_client.get(reverse("jobs:list"), {"shape": "portrait_audio"}).content.decode()
    assert rows(html) == [] and "No job matches these filters" in html


def test_filters_by_date_range(owner_client, jobs):
    from datetime import timedelta

    old = jobs["local"]
    Job.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(days=10))
    day = (old.created_at - timedelta(days=10)).date()
    html = owner_client.get(reverse("jobs:list"), {"since": day, "until": day}).content.decode()
    assert rows(html) == [str(old.id)]
    html = owner_client.get(reverse("jobs:list"), {"since": day + timedelta(days=1)}).content.decode()
    assert str(old.id) not in rows(html) and len(rows(html)) == 2


def test_rows_show_route_names_credits_and_the_simulated_mark(owner_client, jobs):
    Job.objects.filter(pk=jobs["kling"].pk).update(simulated=True)
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert "Kling lip-sync (audio)" in html and ">kling-lipsync-audio<" not in html
    assert "simulated output" in html
    assert 'data-credits="released"' in html  # the failed local draft
    assert "held" in html  # the queued ones


def test_cancelled_and_rejected_jobs_say_released_not_held(owner_client, owner, make_job):
    from lipsync_site.jobs.models import EventKind
    from lipsync_site.jobs.workflow.settle import settle

    waiting = make_job(status=Status.AWAITING_REVIEW)
    settle(waiting, to=Status.REJECTED, why="no", kind=EventKind.REVIEW_REJECTED, error="no")
    cancelled = make_job()
    settle(cancelled, to=Status.CANCELLED, why="stop", kind=EventKind.CANCEL_DONE)
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert html.count('data-credits="released"') == 2 and " held<" not in html


def test_pages_by_keyset_from_newest_to_oldest_and_back(owner_client, owner):
    studio.bulk_history(owner, 45)
    newest_first = Job.objects.filter(owner=owner).order_by("-created_at", "-id")
    ordered = [str(pk) for pk in newest_first.values_list("id", flat=True)]
    first = owner_client.get(reverse("jobs:list")).content.decode()
    assert rows(first) == ordered[:20] and 'id="page-newer"' not in first
    older = re.search(r'href="\?before=([^"]+)" id="page-older"', first).group(1)
    second = owner_client.get(reverse("jobs:list"), {"before": older}).content.decode()
    assert rows(second) == ordered[20:40]
    last = owner_client.get(reverse("jobs:list"), {"oldest": "1"}).content.decode()
    assert rows(last) == ordered[25:] and 'id="page-older"' not in last
    newer = re.search(r'after=([^"]+)" id="page-newer"', second).group(1)
    back = owner_client.get(reverse("jobs:list"), {"after": newer}).content.decode()
    assert rows(back) == ordered[:20]


def test_paging_links_keep_the_filters(owner_client, owner):
    studio.bulk_history(owner, 130)
    html = owner_client.get(reverse("jobs:list"), {"q": "french"}).content.decode()
    assert len(rows(html)) == 20 and "26 jobs match" in html
    assert re.search(r'href="\?q=french&amp;before=[^"]+" id="page-older"', html)


def test_a_bad_cursor_shows_the_first_page(owner_client, jobs):
    html = owner_client.get(reverse("jobs:list"), {"before": "not-a-cursor"}).content.decode()
    assert len(rows(html)) == 3


def test_live_rows_are_one_request_for_every_row_in_flight_and_stop_when_none_is(owner_client, jobs):
    html = owner_client.get(reverse("jobs:list")).content.decode()
    poll = re.search(r'id="history-live" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert poll.count("id=") == 2  # the two queued jobs, not the finished one
    response = owner_client.get(poll, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('hx-swap-oob="true"') == 3  # two rows and the poller itself
    assert "<template>" in body
    for job in (jobs["french"], jobs["kling"]):
        factories.end(job)
    response = owner_client.get(poll, headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert 'data-status="failed"' in response.content.decode()
    assert 'data-in-flight="0"' in response.content.decode()


def test_outsider_sees_none_of_it(client, outsider, jobs):
    client.force_login(outsider)
    assert rows(client.get(reverse("jobs:list")).content.decode()) == []
    response = client.get(reverse("jobs:rows"), {"id": [str(job.id) for job in jobs.values()]})
    assert "job-row-" not in response.content.decode() and response.status_code == 286


def test_history_query_count_does_not_grow_with_the_rows(owner_client, owner, django_assert_max_num_queries):
    studio.bulk_history(owner, 60)
    owner_client.get(reverse("jobs:list"))
    # Session, user, membership, the page, the capped count, two permission reads for the
    # header, the balance and the workspace switcher: the same at 60 jobs as at 10,000.
    with django_assert_max_num_queries(9):
        owner_client.get(reverse("jobs:list"), {"q": "french", "state": "succeeded"})
    with django_assert_max_num_queries(9):
        owner_client.get(reverse("jobs:list"), {"oldest": "1"})


def test_cursor_round_trip(jobs):
    from lipsync_site.jobs.selectors import _parse_cursor

    job = jobs["french"]
    created, pk = _parse_cursor(cursor_of(job))
    assert pk == job.id and abs((created - job.created_at).total_seconds()) < 1e-5
