"""Deploy variables, read by a real settings import in a fresh process (as a deployment
starts): production refuses to start half-configured; S3 media when S3_BUCKET is set (keys
from the environment or ``_FILE`` paths), the filesystem otherwise; Redis for the queue
and the shared cache when REDIS_URL is set, the database otherwise; the render cluster
and its Procfile lines."""

import json
import os
import subprocess
import sys

from tests.processes import ROOT

# The settings module run as a process starting up would run it (without loading the apps,
# which is all the time a full start adds).
PRINT_SETTINGS = (
    "import json, runpy; s = runpy.run_module('lipsync_site.settings'); "
    "print(json.dumps({'storage': s['STORAGES']['default'], 'proxy': s['MEDIA_SERVED_BY_PROXY'], "
    "'cache': s['CACHES']['default']['BACKEND'], 'broker': 'redis' if 'redis' in s['Q_CLUSTER'] else 'orm', "
    "'render_cluster': s['Q_RENDER_CLUSTER'], 'alt': list(s['Q_CLUSTER']['ALT_CLUSTERS']), "
    "'tls_proxy': s['SECURE_PROXY_SSL_HEADER']}))"
)
DEPLOY_PREFIXES = ("S3_", "MEDIA_", "REDIS_URL", "CACHE_URL", "DJANGO_", "Q_")


def run_settings(**env) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if not key.startswith(DEPLOY_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "lipsync_site.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def settings_with(**env) -> dict:
    completed = run_settings(**env)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_production_refuses_to_start_without_a_secret_key_or_hosts():
    completed = run_settings(DJANGO_ENV="production")
    assert completed.returncode != 0 and "DJANGO_SECRET_KEY" in completed.stderr
    completed = run_settings(DJANGO_ENV="production", DJANGO_SECRET_KEY="x" * 60)
    assert completed.returncode != 0 and "DJANGO_ALLOWED_HOSTS" in completed.stderr
    found = settings_with(DJANGO_ENV="production", DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="example.com")
    assert found["storage"]["BACKEND"].endswith("FileSystemStorage")


def test_redis_carries_the_queue_and_the_shared_cache_when_set():
    found = settings_with(REDIS_URL="redis://127.0.0.1:6379/9")
    assert (found["broker"], found["cache"]) == ("redis", "django.core.cache.backends.redis.RedisCache")
    found = settings_with()
    assert (found["broker"], found["cache"]) == ("orm", "django.core.cache.backends.db.DatabaseCache")


def test_local_renders_have_a_cluster_of_their_own_and_a_procfile_line():
    found = settings_with()
    assert found["render_cluster"] == "lipsync-renders" and found["alt"] == ["lipsync-renders"]
    assert settings_with(Q_SITE_NAME="acme")["render_cluster"] == "acme-renders"
    for procfile in ("Procfile", "Procfile.dev"):
        lines = dict(line.split(":", 1) for line in (ROOT / procfile).read_text().splitlines() if ":" in line)
        assert "Q_CLUSTER_NAME=${Q_SITE_NAME:-lipsync}-renders" in lines["renders"]
        assert "qcluster" in lines["renders"] and "qcluster" in lines["worker"]


def test_without_a_bucket_media_are_on_the_filesystem():
    found = settings_with()
    assert found["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert found["proxy"] is False


def test_a_bucket_moves_media_to_s3_with_keys_from_files(tmp_path):
    (tmp_path / "key").write_text("AKIA-from-file\n")
    (tmp_path / "secret").write_text("secret-from-file\n")
    found = settings_with(
        S3_BUCKET="lipsync-media",
        S3_ENDPOINT_URL="https://objects.example.com",
        S3_REGION="eu-central-1",
        S3_ACCESS_KEY_ID_FILE=str(tmp_path / "key"),
        S3_SECRET_ACCESS_KEY_FILE=str(tmp_path / "secret"),
    )
    storage = found["storage"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "lipsync-media"
    assert options["endpoint_url"] == "https://objects.example.com"
    assert options["region_name"] == "eu-central-1"
    assert (options["access_key"], options["secret_key"]) == ("AKIA-from-file", "secret-from-file")
    assert options["querystring_auth"] is True and options["querystring_expire"] == 300
    assert options["default_acl"] is None and options["file_overwrite"] is False


def test_behind_nginx_media_go_by_x_accel_redirect_and_https_is_read_from_the_proxy():
    found = settings_with(MEDIA_SERVED_BY_PROXY="1", DJANGO_BEHIND_TLS_PROXY="1")
    assert found["proxy"] is True
    assert found["tls_proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    # deploy/nginx.conf sends the header that setting reads.
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in (ROOT / "deploy" / "nginx.conf").read_text()
