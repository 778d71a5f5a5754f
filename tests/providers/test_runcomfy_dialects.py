"""The RunComfy adapter accepts every answer the official clients accept.

Each dialect of the simulator (``RunComfySimulator.DIALECTS``) is one spelling that
RunComfy's own clients read (runcomfy-cli ``src/poll.rs``, ``src/cmd/mod.rs``; the
ComfyUI partner nodes ``runcomfy/execution.py``; runcomfy-mcp ``runcomfy_client.py``).
"""

from __future__ import annotations

import dataclasses

import pytest

from lipsync_site.providers import catalog
from lipsync_site.providers.base import InputFile, InputRejected, RequestState, SubmitInputs, SubmitOptions
from lipsync_site.providers.registry import get_provider
from lipsync_site.providers.router import ProbeFacts, fit_problems
from lipsync_site.providers.simulators.runcomfy import RunComfySimulator

from .test_runcomfy import inputs_for, options_for, poll_until_terminal, submit

# Cancels and failures have their own tests below: every other dimension runs a whole job.
DIALECT_CASES = [
    (dimension, spelling)
    for dimension, spellings in RunComfySimulator.DIALECTS.items()
    if dimension not in {"cancel_word", "cancel_answer", "failure_shape"}
    for spelling in spellings
]


def run_to_the_end(sim, media, tmp_path, route_id="sync-v2"):
    provider = get_provider("runcomfy")
    request_id = submit(sim, media, route_id)
    final, seen = poll_until_terminal(provider, request_id)
    return request_id, final, seen


@pytest.mark.parametrize(("dimension", "spelling"), DIALECT_CASES, ids=lambda value: str(value))
def test_a_job_succeeds_in_every_dialect(dimension, spelling, runcomfy_sim, provider_media, tmp_path):
    runcomfy_sim.set_dialect(**{dimension: spelling})
    request_id, final, seen = run_to_the_end(runcomfy_sim, provider_media, tmp_path)

    assert final.state == RequestState.SUCCEEDED, [result.payload for result in seen]
    assert spelling in runcomfy_sim.spoken_in(dimension)
    (output,) = get_provider("runcomfy").outputs(request_id)
    assert output.kind == "video"
    assert get_provider("runcomfy").download(output, tmp_path / "out.mp4", max_bytes=50_000_000) > 0


def test_completed_in_the_result_is_success_not_not_ready(runcomfy_sim, provider_media, tmp_path):
    # Issue 10, point 1: "completed" was read as "not ready" and the job polled to its limit.
    runcomfy_sim.set_dialect(done_word="completed", result_success="completed")
    request_id, final, _ = run_to_the_end(runcomfy_sim, provider_media, tmp_path)
    assert final.state == RequestState.SUCCEEDED
    assert get_provider("runcomfy").outputs(request_id)


@pytest.mark.parametrize("word", ["pending", "processing", "waiting", "starting", "running"])
def test_statuses_beyond_the_first_vocabulary_keep_the_request_moving(word, runcomfy_sim, provider_media):
    # Issue 10, point 2: each of these raised a retryable error on every poll.
    field = "running_word" if word in RunComfySimulator.DIALECTS["running_word"] else "queued_word"
    runcomfy_sim.set_dialect(**{field: word})
    request_id = submit(runcomfy_sim, provider_media)
    final, seen = poll_until_terminal(get_provider("runcomfy"), request_id)
    assert final.state == RequestState.SUCCEEDED
    expected = RequestState.RUNNING if field == "running_word" else RequestState.QUEUED
    assert expected in {result.state for result in seen}


def test_a_status_no_client_names_keeps_polling_and_is_recorded(runcomfy_sim, provider_media):
    request_id = submit(runcomfy_sim, provider_media)
    run = runcomfy_sim.runs[request_id]
    run.status = "warming_up"  # a word nobody documents
    result = get_provider("runcomfy").poll(request_id)
    assert result.state == RequestState.RUNNING
    assert result.payload["unknown_status"] == "warming_up"


@pytest.mark.parametrize("spelling", RunComfySimulator.DIALECTS["cancel_word"])
@pytest.mark.parametrize("answer", RunComfySimulator.DIALECTS["cancel_answer"])
def test_cancel_in_every_dialect(spelling, answer, runcomfy_sim, provider_media):
    runcomfy_sim.set_dialect(cancel_word=spelling, cancel_answer=answer)
    request_id = submit(runcomfy_sim, provider_media)
    assert get_provider("runcomfy").cancel(request_id) is True
    result = get_provider("runcomfy").poll(request_id)
    assert result.state == RequestState.CANCELLED
    assert spelling in runcomfy_sim.spoken_in("cancel_word")


@pytest.mark.parametrize("shape", RunComfySimulator.DIALECTS["failure_shape"])
def test_failure_reason_in_every_shape(shape, runcomfy_sim, provider_media):
    runcomfy_sim.set_dialect(failure_shape=shape)
    runcomfy_sim.inject("failed_run", message="No face found in the source video.")
    request_id = submit(runcomfy_sim, provider_media)
    final, _ = poll_until_terminal(get_provider("runcomfy"), request_id)
    assert final.state == RequestState.FAILED
    assert "No face found" in final.message


def test_a_seeded_random_mix_of_dialects_runs_every_job_to_its_output(runcomfy_sim, provider_media, tmp_path):
    runcomfy_sim.set_dialect(seed=10)
    for index in range(8):
        request_id, final, _ = run_to_the_end(runcomfy_sim, provider_media, tmp_path)
        assert final.state == RequestState.SUCCEEDED
        (output,) = get_provider("runcomfy").outputs(request_id)
        assert get_provider("runcomfy").download(output, tmp_path / f"{index}.mp4", max_bytes=50_000_000) > 0
    for dimension in ("queued_word", "running_word", "done_word", "result_success", "output_shape"):
        assert len(runcomfy_sim.spoken_in(dimension)) >= 2, dimension


def test_output_urls_are_found_however_deep():
    from lipsync_site.providers.runcomfy import parse_outputs

    outputs = parse_outputs(
        {
            "video": {"url": "https://a.runcomfy.net/v.mp4"},
            "extra": {"files": [{"url": "https://a.runcomfy.net/v.mp4"}]},
        }
    )
    assert [(output.url, output.kind) for output in outputs] == [("https://a.runcomfy.net/v.mp4", "video")]


# --- HappyHorse: the schema's spellings and limits (point 7) -------------------------------------
def test_happyhorse_resolution_is_sent_in_the_documented_spelling(runcomfy_sim, provider_media):
    route = catalog.catalog_route("happyhorse-t2v")
    options = SubmitOptions(extra={"duration": 3, "resolution": "1080p"})
    get_provider("runcomfy").submit(route, inputs_for(route, provider_media), options)
    (call,) = runcomfy_sim.calls_to("submit")
    assert call["body"]["resolution"] == "1080P"


def test_happyhorse_image_to_video_sends_no_aspect_ratio(runcomfy_sim, provider_media):
    route = catalog.catalog_route("happyhorse-i2v")
    options = SubmitOptions(extra={"duration": 3, "aspect_ratio": "9:16"})
    request_id = get_provider("runcomfy").submit(route, inputs_for(route, provider_media), options)
    (call,) = runcomfy_sim.calls_to("submit")
    assert "aspect_ratio" not in call["body"]
    assert poll_until_terminal(get_provider("runcomfy"), request_id)[0].state == RequestState.SUCCEEDED


def test_a_resolution_outside_the_schema_is_refused_before_sending(runcomfy_sim, provider_media):
    route = catalog.catalog_route("happyhorse-t2v")
    with pytest.raises(InputRejected, match="720P, 1080P"):
        get_provider("runcomfy").submit(
            route, inputs_for(route, provider_media), SubmitOptions(extra={"resolution": "4K"})
        )
    assert runcomfy_sim.calls == []


def test_the_simulator_refuses_the_old_lower_case_spelling(runcomfy_sim, provider_media):
    # What the adapter used to send: the service answers 422 naming the field.
    route = dataclasses.replace(catalog.catalog_route("happyhorse-t2v"), limits={}, defaults={"resolution": "720p"})
    with pytest.raises(InputRejected, match="resolution"):
        get_provider("runcomfy").submit(route, inputs_for(route, provider_media), options_for(route))


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        ({"width": 800, "height": 800, "image_bytes": 11 * 1024 * 1024}, "up to 10 MB"),
        ({"width": 299, "height": 400, "image_bytes": 1000}, "at least 300 px"),
        ({"width": 1200, "height": 400, "image_bytes": 1000}, "2.5:1"),
        ({"width": 300, "height": 800, "image_bytes": 1000}, "1:2.5"),
    ],
)
def test_happyhorse_portrait_limits(facts, problem):
    route = catalog.catalog_route("happyhorse-i2v")
    problems = fit_problems(route, ProbeFacts(text_chars=20, output_seconds=5, **facts))
    assert any(problem in text for text in problems), problems


def test_a_portrait_within_the_limits_fits():
    route = catalog.catalog_route("happyhorse-i2v")
    assert fit_problems(route, ProbeFacts(width=720, height=1280, image_bytes=2_000_000, text_chars=40)) == []


def test_happyhorse_prompt_lengths_follow_the_schema():
    assert catalog.catalog_route("happyhorse-t2v").max_text_chars == 2500
    assert catalog.catalog_route("happyhorse-i2v").max_text_chars == 5000


def test_inputs_with_an_image_url(runcomfy_sim, provider_media):
    route = catalog.catalog_route("happyhorse-i2v")
    inputs = SubmitInputs(image=InputFile(url=provider_media.url("portrait.png")), text="Hello there.")
    get_provider("runcomfy").submit(route, inputs, SubmitOptions())
    (call,) = runcomfy_sim.calls_to("submit")
    assert call["body"]["image_url"].endswith("/portrait.png")
