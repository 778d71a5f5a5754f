"""Every sentence of the README's "Deploying at scale" section names the tests that show it
(or the CI step that runs it). A new sentence without a test fails here; so does a claim
whose test was renamed or removed."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A phrase of the sentence -> what shows it ("path::test" or "path" for a CI step).
COVERAGE = {
    "turns on the production checks": [
        "tests/test_settings_deploy.py::test_production_refuses_to_start_without_a_secret_key_or_hosts"
    ],
    "variants work for every secret": [
        "tests/test_env.py::test_a_secret_file_wins_over_the_variable_and_is_stripped",
        "tests/test_settings_deploy.py::test_a_bucket_moves_media_to_s3_with_keys_from_files",
    ],
    "`make check-deploy` runs": [".ci/run"],
    "The same code runs on one machine or many": [
        "tests/deploy/test_two_machines.py::test_a_batch_runs_on_two_machines_sharing_only_postgres_redis_and_s3"
    ],
    "**Database**": ["tests/jobs/test_concurrency.py::test_twenty_submissions_at_once_with_credits_for_five"],
    "is what lets several trackers and workers share the work": [
        "tests/jobs/test_concurrency.py::test_twenty_deliveries_of_one_submit_send_it_once"
    ],
    "SQLite is for the demo": ["tests/demo/test_seed_demo.py"],
    "**Queue and cache**": [
        "tests/test_settings_deploy.py::test_redis_carries_the_queue_and_the_shared_cache_when_set",
        "tests/accounts/test_sign_in.py::test_failures_are_counted_in_the_shared_cache_not_in_process_memory",
        "tests/monitoring/test_health.py::test_it_is_green_once_a_tracker_has_ticked",
    ],
    "Every task is idempotent": [
        "tests/jobs/test_kill_workers.py::test_workers_killed_at_each_step_lose_no_job_and_never_submit_twice"
    ],
    "`release` migrates": [".ci/run"],
    "`web` is gunicorn": ["tests/monitoring/test_metrics.py::test_request_metrics_add_up_over_every_gunicorn_worker"],
    "`worker` (`qcluster`) runs": [
        "tests/jobs/test_kill_workers.py::test_workers_killed_at_each_step_lose_no_job_and_never_submit_twice"
    ],
    "is a cluster of its own for local renders": [
        "tests/jobs/test_render_cluster.py::test_a_long_render_does_not_delay_a_cloud_jobs_steps",
        "tests/test_settings_deploy.py::test_local_renders_have_a_cluster_of_their_own_and_a_procfile_line",
    ],
    "`tracker` polls": ["tests/jobs/test_track_jobs_command.py"],
    "Run as many of each as the load needs": [
        "tests/deploy/test_two_machines.py::test_a_batch_runs_on_two_machines_sharing_only_postgres_redis_and_s3"
    ],
    "**Storage**": [
        "tests/test_settings_deploy.py::test_a_bucket_moves_media_to_s3_with_keys_from_files",
        "tests/test_settings_deploy.py::test_without_a_bucket_media_are_on_the_filesystem",
        "tests/jobs/test_end_to_end.py::test_job_runs_from_form_to_signed_download",
    ],
    "Workers read media through the storage API": [
        "tests/jobs/test_end_to_end.py::test_job_runs_from_form_to_signed_download",
        "tests/deploy/test_two_machines.py::test_a_batch_runs_on_two_machines_sharing_only_postgres_redis_and_s3",
    ],
    "**Downloads**": [
        "tests/jobs/test_end_to_end.py::test_job_runs_from_form_to_signed_download",
        "tests/jobs/test_provider_inputs.py::test_with_s3_media_a_valid_link_redirects_to_a_short_lived_presigned_url",
        "tests/deploy/test_nginx.py::test_a_range_request_gets_those_bytes_from_nginx",
        "tests/deploy/test_nginx.py::test_a_revoked_link_is_a_404",
        "tests/deploy/test_nginx.py::test_a_tampered_link_is_a_404",
        "tests/deploy/test_nginx.py::test_a_provider_input_link_is_served_by_nginx",
    ],
    "Python streams the file with Range support": [
        "tests/media/test_signed_links.py::test_range_request_returns_exactly_those_bytes"
    ],
    "**Proxy**": [
        "tests/deploy/test_nginx_conf.py::test_envsubst_with_the_documented_list_renders_what_the_tests_run",
        "tests/deploy/test_nginx.py::test_a_request_body_over_the_cap_is_refused_by_nginx",
        "tests/deploy/test_nginx.py::test_a_slow_upload_holds_no_worker_nginx_buffers_it_first",
        "tests/deploy/test_nginx.py::test_the_internal_media_location_is_not_reachable_from_outside",
        "tests/deploy/test_nginx.py::test_a_client_reading_at_2_mb_per_second_is_not_cut_off",
        "tests/deploy/test_nginx.py::test_a_1_gib_download_runs_at_full_speed_with_the_worker_memory_flat",
    ],
    "Set `DJANGO_BEHIND_TLS_PROXY=1` behind it": [
        "tests/test_settings_deploy.py::test_behind_nginx_media_go_by_x_accel_redirect_and_https_is_read_from_the_proxy"
    ],
    "The app caps each file": [
        "tests/media/test_upload_handler.py",
        "tests/media/test_request_size.py::test_a_form_whose_files_together_pass_the_cap_is_refused_with_a_clear_message",
        "tests/media/test_request_size.py::test_the_body_is_not_read_when_the_declared_length_is_over_the_cap",
    ],
    "**Health and metrics**": [
        "tests/monitoring/test_health.py::test_it_is_green_once_a_tracker_has_ticked",
        "tests/monitoring/test_health.py::test_it_is_red_when_the_tracker_has_not_ticked_for_a_minute",
        "tests/monitoring/test_health.py::test_the_storage_check_uses_the_bucket_when_media_are_in_s3",
    ],
    "`/metrics` is Prometheus text": [
        "tests/monitoring/test_metrics.py::test_request_metrics_add_up_over_every_gunicorn_worker",
        "tests/monitoring/test_metrics.py::test_the_products_figures_are_exposed",
    ],
    "nginx lets only the local machine reach it": [
        "tests/deploy/test_nginx.py::test_metrics_are_for_this_machine_only"
    ],
    "`make bench` prints the download figures": [
        "tests/deploy/test_bench_downloads.py::test_downloads_through_the_proxy"
    ],
}


def section_sentences() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deploying at scale") : readme.index("Owners get an e-mail")]
    text = " ".join(section.split("\n", 1)[1].split())
    return [sentence for sentence in re.split(r"(?<=[.;])\s+(?=[A-Z`(*-]|nginx)", text) if sentence.strip("- ")]


def test_every_sentence_names_what_shows_it():
    uncovered = [s for s in section_sentences() if not any(phrase in s for phrase in COVERAGE)]
    assert not uncovered, "add the tests that show these to COVERAGE:\n" + "\n".join(uncovered)


def test_every_named_test_exists():
    missing = []
    for refs in COVERAGE.values():
        for ref in refs:
            path, _, name = ref.partition("::")
            if not (ROOT / path).exists():
                missing.append(ref)
            elif name:
                tree = ast.parse((ROOT / path).read_text())
                if name not in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}:
                    missing.append(ref)
            elif path == ".ci/run" and "check-deploy" not in (ROOT / path).read_text():
                missing.append(ref)
    assert not missing, missing
