"""The job page: the cheap polled status (one narrow query, 304 with an ETag, elapsed time
counted in the browser), the no-JS refresh, the simulated note, review marks, compare."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lipsync_site.jobs.models import Job, OutputReview, Status
from tests import factories, mediafactory, studio

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def output(owner, media_dir):
    return factories.stored_file(owner, mediafactory.make_video(media_dir / "out.mp4", seconds=1.0), "video")


def test_status_poll_is_one_narrow_query_without_catalog_or_consent(owner_client, make_job):
    job = make_job()
    owner_client.get(reverse("jobs:status", args=[job.id]), headers=HX)  # session warmed
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(reverse("jobs:status", args=[job.id]), headers=HX)
    assert response.status_code == 200
    job_queries = [query["sql"] for query in queries if "jobs_job" in query["sql"]]
    assert len(job_queries) == 1 and "JOIN" not in job_queries[0]
    assert "consent_" not in " ".join(q["sql"] for q in queries)
    assert "providers_routeoverride" not in " ".join(q["sql"] for q in queries)
    assert len(queries) <= 4  # the session, the user, their membership, the job


def test_status_answers_304_while_nothing_changed_and_200_when_it_did(owner_client, make_job):
    job = make_job()
    url = reverse("jobs:status", args=[job.id])
    first = owner_client.get(url, headers=HX)
    etag = first["ETag"]
    assert etag and "private" in first["Cache-Control"]
    again = owner_client.get(url, headers={**HX, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    Job.objects.filter(pk=job.pk).update(progress=0.5)
    changed = owner_client.get(url, headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert 'value="50"' in changed.content.decode()


def test_status_body_does_not_change_with_the_clock(owner_client, make_job):
    import re
    import time

    def body():
        # The cancel form's CSRF token is masked afresh on every render; nothing else moves.
        html = owner_client.get(url, headers=HX).content.decode()
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    job = make_job()
    url = reverse("jobs:status", args=[job.id])
    first = body()
    time.sleep(1.1)
    assert body() == first
    assert "data-since=" in first and " s elapsed" not in first


def test_finished_job_stops_polling_with_its_player(owner_client, make_job, output):
    job = studio.deliver(make_job(), output)
    response = owner_client.get(reverse("jobs:status", args=[job.id]), headers=HX)
    assert response.status_code == 286
    html = response.content.decode()
    assert 'id="result-player"' in html
    # The page's credits line, rendered while the job ran, is brought up to date too.
    assert '<dd id="job-credits-line" hx-swap-oob="true">' in html and "charged" in html


def test_page_refreshes_itself_without_javascript_only_while_in_flight(owner_client, make_job, output):
    job = make_job()
    html = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    studio.deliver(job, output)
    html = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert 'http-equiv="refresh"' not in html


def test_simulated_job_says_so_on_its_page_and_on_the_player(owner_client, make_job, output):
    job = make_job()
    Job.objects.filter(pk=job.pk).update(simulated=True)
    job.refresh_from_db()
    studio.deliver(job, output)
    html = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert 'id="simulated-note"' in html and 'id="player-simulated"' in html
    assert "placeholder" in html


def test_drift_is_said_in_words_with_a_next_step(owner_client, make_job, output):
    job = studio.deliver(make_job(), output, drift=-47.1)
    html = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert "-47.1" not in html
    assert "ends 47.1 s before the voice does" in html and "run again" in html


def test_review_marks_record_the_author_and_the_latest_is_filterable(owner_client, owner, make_job, output):
    job = studio.deliver(make_job(), output)
    other = make_job()
    url = reverse("jobs:review", args=[job.id])
    owner_client.post(url, {"verdict": "changes", "comment": "Mouth lags at the end"})
    owner_client.post(url, {"verdict": "approved", "comment": ""})
    marks = list(OutputReview.objects.filter(job=job).order_by("created_at", "id"))
    assert [mark.verdict for mark in marks] == ["changes", "approved"] and marks[0].author == owner
    job.refresh_from_db()
    assert job.verdict == "approved"
    html = owner_client.get(reverse("jobs:detail", args=[job.id])).content.decode()
    assert "Mouth lags at the end" in html and "owner" in html
    listed = owner_client.get(reverse("jobs:list"), {"verdict": "approved"}).content.decode()
    assert f"job-row-{job.id}" in listed and f"job-row-{other.id}" not in listed


def test_an_unfinished_job_cannot_be_marked(owner_client, make_job):
    job = make_job()
    owner_client.post(reverse("jobs:review", args=[job.id]), {"verdict": "approved"})
    assert not OutputReview.objects.exists()


def test_compare_shows_route_cost_score_and_drift_for_each(owner_client, make_job, output, media_dir, owner):
    second = factories.stored_file(owner, mediafactory.make_video(media_dir / "b.mp4", seconds=1.0), "video")
    one = studio.deliver(make_job(route_id="sync-v2-pro"), output, score=0.91, drift=0.0)
    two = studio.deliver(make_job(route_id="local-draft"), second, score=0.42, drift=-0.3)
    unfinished = make_job()
    html = owner_client.get(reverse("jobs:compare"), {"job": [one.id, two.id, unfinished.id]}).content.decode()
    assert html.count('class="compare-player"') == 2
    assert "Sync Labs sync v2 Pro" in html and "Local draft" in html
    assert "0.91" in html and "0.42" in html and "-0.3 s" in html
    assert "charged" in html


def test_compare_needs_two_outputs(owner_client, make_job, output):
    one = studio.deliver(make_job(), output)
    html = owner_client.get(reverse("jobs:compare"), {"job": [one.id]}).content.decode()
    assert 'id="compare-empty"' in html


@pytest.mark.parametrize("name", ["jobs:detail", "jobs:status"])
def test_outsider_gets_404(client, outsider, make_job, name):
    job = make_job()
    client.force_login(outsider)
    assert client.get(reverse(name, args=[job.id])).status_code == 404


def test_outsider_cannot_review_or_compare(client, outsider, make_job, output):
    job = studio.deliver(make_job(), output)
    client.force_login(outsider)
    assert client.post(reverse("jobs:review", args=[job.id]), {"verdict": "approved"}).status_code == 404
    assert not OutputReview.objects.exists()
    html = client.get(reverse("jobs:compare"), {"job": [job.id, job.id]}).content.decode()
    assert "compare-player" not in html


def test_review_redirects_only_to_this_site(owner_client, make_job, output):
    job = studio.deliver(make_job(), output)
    response = owner_client.post(
        reverse("jobs:review", args=[job.id]), {"verdict": "approved", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("jobs:detail", args=[job.id])
    assert Job.objects.get(pk=job.pk).status == Status.SUCCEEDED
