"""The NemoVideo adapter against every answer NemoVideo's own skills and tools show.

Sources (README of ``providers/``): nemovideo/nemovideo_skills ``SKILL.md`` (render status
top-level, file at ``output.url``, fallback ``/api/render/proxy/<id>/download``, a failed
render retried under a new id, compare the state before and after an edit, persist the
client id) and ``references/api-reference.md`` (``data.status``/``data.outputUrl``, typed
SSE events, the render cancel endpoint); nemovideo/nemovideo-tools ``src/core/client.ts``
(``{code, data}`` and ``{success, data}`` envelopes), ``src/core/render.ts``.
"""

from __future__ import annotations

import pytest

from lipsync_site.providers import catalog
from lipsync_site.providers.base import AccountProblem, RequestState, SubmitOptions
from lipsync_site.providers.models import ProviderCredential
from lipsync_site.providers.nemovideo import NemoVideoProvider, parse_request_id, render_id_for
from lipsync_site.providers.registry import get_provider
from lipsync_site.providers.simulators.nemovideo import NemoVideoSimulator

from .test_nemovideo import inputs, poll_until_terminal, submit

pytestmark = pytest.mark.django_db

DIALECT_CASES = [
    (dimension, spelling) for dimension, spellings in NemoVideoSimulator.DIALECTS.items() for spelling in spellings
]


def run_and_download(nemo_sim, media, tmp_path, name="out.mp4"):
    request_id = submit(media)
    final, seen = poll_until_terminal(request_id)
    assert final.state == RequestState.SUCCEEDED, [result.payload for result in seen]
    (output,) = get_provider("nemovideo").outputs(request_id)
    assert get_provider("nemovideo").download(output, tmp_path / name, max_bytes=20_000_000) > 0
    return request_id


@pytest.mark.parametrize(("dimension", "spelling"), DIALECT_CASES, ids=str)
def test_a_job_succeeds_in_every_dialect(dimension, spelling, nemo_sim, provider_media, tmp_path):
    nemo_sim.set_dialect(**{dimension: spelling})
    run_and_download(nemo_sim, provider_media, tmp_path)
    assert spelling in nemo_sim.spoken_in(dimension)
    assert nemo_sim.submit_count == 1


def test_a_top_level_render_answer_is_read_and_the_render_is_started_once(nemo_sim, provider_media, tmp_path):
    # Issue 10, point 4: the status was read from a "data" envelope only; every poll
    # re-posted the render and the job hung.
    nemo_sim.set_dialect(render_envelope="top_level")
    request_id = run_and_download(nemo_sim, provider_media, tmp_path)
    _session, base, _sent, _before = parse_request_id(request_id)
    started = [call for call in nemo_sim.calls_to("render") if call["body"]["id"] == base]
    assert len(started) == 1


def test_an_upload_on_the_timeline_is_not_taken_for_the_edit(nemo_sim, provider_media, settings):
    # Issue 10, point 8: a timeline with a video track was enough; the raw upload passed.
    nemo_sim.set_dialect(upload_draft="source_on_timeline")
    nemo_sim.inject("failed_run")  # the agent answers, but the edit never lands
    request_id = submit(provider_media)
    _session, base, _sent, _before = parse_request_id(request_id)
    for _ in range(3):
        assert get_provider("nemovideo").poll(request_id).state == RequestState.RUNNING
    assert base not in nemo_sim.renders  # nothing rendered: the draft is the one before the edit
    settings.NEMO_EDIT_GRACE_SECONDS = -1
    assert get_provider("nemovideo").poll(request_id).state == RequestState.FAILED


def test_a_failed_render_is_retried_under_a_new_id(nemo_sim, provider_media, tmp_path):
    # Issue 10, point 8: the skill asks for a new id; the same id is refused as a duplicate.
    nemo_sim.inject("failed_render")
    request_id = run_and_download(nemo_sim, provider_media, tmp_path)
    _session, base, _sent, _before = parse_request_id(request_id)
    assert nemo_sim.renders[base].status == "failed"
    assert nemo_sim.renders[render_id_for(base, 2)].status == "completed"


def test_two_failed_renders_fail_the_request(nemo_sim, provider_media):
    nemo_sim.inject("failed_render")
    request_id = submit(provider_media)
    _session, base, _sent, _before = parse_request_id(request_id)
    for _ in range(10):  # until the first render has failed and the second has started
        if render_id_for(base, 2) in nemo_sim.renders:
            break
        get_provider("nemovideo").poll(request_id)
    nemo_sim.renders[render_id_for(base, 2)].faults["failed_render"] = {}
    final, _ = poll_until_terminal(request_id)
    assert final.state == RequestState.FAILED
    assert "render" in final.message


def test_a_render_without_a_url_is_downloaded_through_the_fallback(nemo_sim, provider_media, tmp_path):
    nemo_sim.set_dialect(render_output="none")
    request_id = run_and_download(nemo_sim, provider_media, tmp_path)
    (call,) = nemo_sim.calls_to("render_download")
    _session, base, _sent, _before = parse_request_id(request_id)
    assert call["path"] == f"/api/render/proxy/{base}/download"
    assert call["headers"]["Authorization"].startswith("Bearer ")


def test_an_expired_output_link_falls_back_and_the_token_goes_only_to_the_api(nemo_sim, provider_media, tmp_path):
    nemo_sim.inject("expired_output")
    run_and_download(nemo_sim, provider_media, tmp_path)
    (refused,) = nemo_sim.calls_to("download")
    assert "Authorization" not in refused["headers"]
    (fallback,) = nemo_sim.calls_to("render_download")
    assert fallback["headers"]["Authorization"].startswith("Bearer ")


def test_a_token_that_cannot_export_fails_before_anything_is_spent(nemo_sim, provider_media):
    # Issue 10, point 6: the edit was charged, then the render answered 402 in polling.
    nemo_sim.set_export_allowed(False)
    with pytest.raises(AccountProblem, match="cannot export") as caught:
        submit(provider_media)
    assert "Nothing was spent" in caught.value.message
    assert nemo_sim.submit_count == 0
    assert nemo_sim.calls_to("edit") == []
    assert NemoVideoProvider().balance()["available"] == 100


def test_a_configured_token_without_the_render_scope_is_refused_before_the_edit(nemo_sim, provider_media, settings):
    nemo_sim.add_token("nmv_usr_no_render_scope_1234", can_export=False)
    settings.NEMO_TOKEN = "nmv_usr_no_render_scope_1234"
    settings.NEMO_BASE_URL = nemo_sim.base_url
    with pytest.raises(AccountProblem, match="render scope"):
        submit(provider_media)
    assert nemo_sim.calls_to("edit") == []


def test_missing_attribution_is_found_before_the_edit(nemo_sim, provider_media, settings):
    settings.NEMO_SKILL_SOURCE = ""
    with pytest.raises(AccountProblem, match="attribution"):
        submit(provider_media)
    assert nemo_sim.submit_count == 0


def test_the_export_check_is_made_once_per_token(nemo_sim, provider_media):
    nemo_sim.set_dialect(upload_draft="source_on_timeline")  # the probe renders the raw upload
    submit(provider_media)
    submit(provider_media)
    probes = [call for call in nemo_sim.calls_to("render") if call["body"]["id"].startswith("render_probe_")]
    assert len(probes) == 1
    (probe,) = (render for render in nemo_sim.renders.values() if render.id.startswith("render_probe_"))
    assert probe.status == "cancelled"  # not left rendering


def test_one_client_id_is_kept_across_starter_tokens(nemo_sim, provider_media):
    submit(provider_media)
    nemo_sim.expire_tokens()
    submit(provider_media)
    assert len(nemo_sim.client_ids) == 2
    assert len(set(nemo_sim.client_ids)) == 1
    assert ProviderCredential.objects.get(provider="nemovideo-sim").client_id == nemo_sim.client_ids[0]


def test_a_configured_client_id_is_used(nemo_sim, provider_media, settings):
    settings.NEMO_CLIENT_ID = "5e0b6c52-lipsync-site-client"
    submit(provider_media)
    assert nemo_sim.client_ids == ["5e0b6c52-lipsync-site-client"]


def test_typed_stream_events_are_read(nemo_sim, provider_media, caplog):
    nemo_sim.set_dialect(sse_events="typed")
    with caplog.at_level("INFO", logger="lipsync_site.providers.nemovideo"):
        request_id = submit(provider_media)
    assert "text=yes" in caplog.text
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_an_edit_carried_out_behind_a_gateway_error_is_never_resent(nemo_sim, provider_media):
    nemo_sim.inject("accepted_then_error", endpoint="edit", status=502)
    request_id = submit(provider_media)
    assert nemo_sim.submit_count == 1 and len(nemo_sim.calls_to("edit")) == 1
    assert poll_until_terminal(request_id)[0].state == RequestState.SUCCEEDED


def test_a_seeded_random_mix_of_dialects_runs_every_job_to_its_output(nemo_sim, provider_media, tmp_path):
    nemo_sim.set_dialect(seed=4)
    for index in range(6):
        run_and_download(nemo_sim, provider_media, tmp_path, name=f"{index}.mp4")
    for dimension in NemoVideoSimulator.DIALECTS:
        assert len(nemo_sim.spoken_in(dimension)) >= 2, dimension


def test_request_ids_made_before_the_fingerprint_still_poll(nemo_sim, provider_media):
    request_id = submit(provider_media)
    session, base, sent, _before = parse_request_id(request_id)
    old_style = f"{session}:{base}:{sent}"
    assert poll_until_terminal(old_style)[0].state == RequestState.SUCCEEDED


def test_submit_options_are_unchanged_for_the_edit(nemo_sim, provider_media):
    route = catalog.catalog_route("nemovideo-lipsync")
    get_provider("nemovideo").submit(route, inputs(provider_media), SubmitOptions(mismatch_mode="remap"))
    (edit,) = nemo_sim.calls_to("edit")
    assert "speed" in edit["body"]["new_message"]["parts"][0]["text"]


def test_a_402_at_render_time_is_remembered_for_the_next_submit(nemo_sim, provider_media):
    request_id = submit(provider_media)  # the export check passed
    nemo_sim.set_export_allowed(False)  # the plan changed since
    with pytest.raises(AccountProblem, match="402"):
        get_provider("nemovideo").poll(request_id)
    with pytest.raises(AccountProblem, match="cannot export"):
        submit(provider_media)
    assert nemo_sim.submit_count == 1  # the second edit was never sent
