"""An S3-compatible server on loopback for tests: moto's standalone server (the real S3
protocol over HTTP; nothing of ours is mocked), started once per test session as a
subprocess, one fresh bucket per test.

Fixtures (import them into a conftest with ``from tests.objectstore import *``):

- ``s3_server``: the running server's endpoint URL (session).
- ``s3_storage``: this test's media go to a new bucket on it; ``.names()`` lists what is
  stored, ``.env()`` gives the variables another process needs to use the same bucket.
- ``media_storage``: parametrized over ``filesystem`` and ``s3``: a test that asks for it
  runs once with each.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

__all__ = ["media_storage", "s3_server", "s3_storage"]

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"  # moto accepts any pair
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(endpoint + "/moto-api/", timeout=1.0, trust_env=False)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto's S3 server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


class Bucket:
    """One test's bucket on the loopback S3 server."""

    def __init__(self, endpoint: str, name: str):
        import boto3

        self.endpoint = endpoint
        self.name = name
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        self.client.create_bucket(Bucket=name)

    def names(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def env(self) -> dict[str, str]:
        """The deploy variables that point another process at this bucket."""
        return {
            "S3_BUCKET": self.name,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def storage_setting(self) -> dict:
        """``STORAGES["default"]`` as settings.py builds it from ``env()`` (the settings
        themselves are checked in a fresh process by tests/test_settings_storage.py; the
        processes the deploy tests start read ``env()`` through them)."""
        from django.conf import settings

        options = {
            **settings.STORAGES["default"].get("OPTIONS", {}),
            "bucket_name": self.name,
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
        }
        template = {
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": settings.S3_PRESIGNED_SECONDS,
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": "path",
            "max_memory_size": 8 * 1024 * 1024,
        }
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**template, **options}}


class Filesystem:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.name = "filesystem"

    def names(self) -> list[str]:
        return sorted(str(path.relative_to(self.root)) for path in self.root.rglob("*") if path.is_file())

    def env(self) -> dict[str, str]:
        return {"S3_BUCKET": "", "MEDIA_ROOT": str(self.root)}


@pytest.fixture
def s3_storage(s3_server, settings):
    bucket = Bucket(s3_server, f"media-{uuid.uuid4().hex[:12]}")
    settings.STORAGES = {**settings.STORAGES, "default": bucket.storage_setting()}
    return bucket


@pytest.fixture(params=["filesystem", "s3"])
def media_storage(request, settings):
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return Filesystem(settings.MEDIA_ROOT)
