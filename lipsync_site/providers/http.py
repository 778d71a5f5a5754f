"""httpx plumbing shared by the remote adapters.

httpx has traps (PLATFORM.md): proxies from the environment, no total deadline, retries
only on connection setup. Every provider call goes through a client made here: a timeout
on each operation, ``trust_env`` off, redirects never followed automatically. Downloads
stream to disk with a host allowlist, a byte cap and a total deadline.

Clients are shared: one per provider (and base URL) and process (``shared_client``), so a
call reuses the connection pool instead of building a client and its TLS context each
time. Credentials travel in each request's headers, never in the shared client, and every
call passes its own timeout (``call_timeout``). A forked worker builds its own clients.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from lipsync_site.providers.base import NotFound, OutputRejected, RetryableError

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
MAX_REDIRECTS = 3


def call_timeout(seconds: float | None = None) -> httpx.Timeout:
    """The timeout of one call: ``seconds`` per operation (the setting by default)."""
    seconds = seconds if seconds is not None else settings.PROVIDER_HTTP_TIMEOUT_SECONDS
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def make_client(
    *, base_url: str = "", headers: dict[str, str] | None = None, timeout: float | None = None
) -> httpx.Client:
    """A new client with the house rules. Prefer ``shared_client``: building one costs
    milliseconds of CPU (its TLS context) on every call."""
    return httpx.Client(
        base_url=base_url,
        headers=headers or {},
        timeout=call_timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        # Idle pooled connections are dropped before typical server keep-alive limits
        # (nginx 75 s, load balancers 60 s), so a reused connection is rarely stale.
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10, keepalive_expiry=5.0),
    )


class _ClientPool:
    """One client per name and process; a new base URL (tests, a settings change) replaces
    the client of that name. Forked children never use their parent's sockets."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._clients: dict[str, tuple[str, httpx.Client]] = {}

    def get(self, name: str, base_url: str) -> httpx.Client:
        with self._lock:
            if self._pid != os.getpid():
                # The parent's connections belong to the parent: forget them, never close them.
                self._clients = {}
                self._pid = os.getpid()
            known = self._clients.get(name)
            if known is not None and known[0] == base_url and not known[1].is_closed:
                return known[1]
            client = make_client(base_url=base_url)
            self._clients[name] = (base_url, client)
        if known is not None:
            known[1].close()
        return client

    def close_all(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for _base_url, client in clients.values():
            client.close()


_pool = _ClientPool()


def shared_client(name: str, *, base_url: str = "") -> httpx.Client:
    """The process's client for ``name`` ("runcomfy", "nemovideo", "syncso", "download").

    No credentials and no default headers: pass them, and ``timeout=call_timeout()``, on
    each request.
    """
    return _pool.get(name, base_url)


def close_shared_clients() -> None:
    _pool.close_all()


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    """The delay a 429/503 asks for: ``Retry-After`` in seconds or as an HTTP date."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


def host_allowed(url: str, *, suffixes: Iterable[str], extra_hosts: Iterable[str] = ()) -> bool:
    """HTTPS on a host under one of ``suffixes`` (".runcomfy.net" also admits "runcomfy.net"),
    or any scheme on a host named exactly in ``extra_hosts`` (loopback simulators)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.scheme not in {"http", "https"} or parts.username or parts.password:
        return False
    if host in {h.lower() for h in extra_hosts}:
        return True
    if parts.scheme != "https":
        return False
    for suffix in suffixes:
        suffix = suffix.lower()
        if host.endswith(suffix) or host == suffix.lstrip("."):
            return True
    return False


def download_to_path(
    url: str,
    destination: Path,
    *,
    max_bytes: int,
    allowed_suffixes: Iterable[str],
    deadline_seconds: float | None = None,
    timeout: float | None = None,
    auth_headers: Callable[[str], dict[str, str]] | None = None,
) -> int:
    """Stream ``url`` into ``destination``; return the bytes written.

    Refuses hosts outside the allowlist (also on every redirect hop, followed by hand),
    aborts past ``max_bytes`` (announced or counted) and past the total deadline, and
    treats a body shorter than its ``Content-Length`` as truncated (retryable). Output URLs
    are pre-signed, so no credentials are sent, except where ``auth_headers(url)`` gives
    some: the adapter's own API host (NemoVideo's download fallback). It is asked again on
    every redirect hop, so a redirect away from that host drops them. A failed download
    leaves no partial file behind.
    """
    extra_hosts = list(settings.PROVIDER_EXTRA_DOWNLOAD_HOSTS)
    allowed_suffixes = list(allowed_suffixes)
    deadline = time.monotonic() + (
        deadline_seconds if deadline_seconds is not None else settings.PROVIDER_DOWNLOAD_DEADLINE_SECONDS
    )
    destination = Path(destination)
    client = shared_client("download")
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            credentials = auth_headers(url) if auth_headers is not None else {}
            if not credentials and not host_allowed(url, suffixes=allowed_suffixes, extra_hosts=extra_hosts):
                raise OutputRejected(
                    f"The provider's output is on a host we do not download from ({urlsplit(url).hostname})."
                )
            # identity: count and store the bytes the host sends, as Content-Length says.
            headers = {"Accept-Encoding": "identity", **credentials}
            with client.stream("GET", url, headers=headers, timeout=call_timeout(timeout)) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    url = urljoin(url, location)
                    continue
                return _write_body(response, destination, max_bytes=max_bytes, deadline=deadline)
        raise OutputRejected("The provider's output redirected too many times.")
    except httpx.TimeoutException as exc:
        _discard(destination)
        raise RetryableError(f"Downloading the output timed out ({type(exc).__name__}).", delay=10.0) from None
    except httpx.TransportError as exc:
        _discard(destination)
        raise RetryableError(f"The output download was interrupted ({type(exc).__name__}).", delay=10.0) from None
    except BaseException:
        _discard(destination)
        raise


def _write_body(response: httpx.Response, destination: Path, *, max_bytes: int, deadline: float) -> int:
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableError(
            f"The output host answered HTTP {response.status_code}.",
            delay=retry_after_seconds(response, 10.0),
        )
    if response.status_code in {403, 404, 410}:
        # Pre-signed output links expire; the caller can ask the provider for fresh ones.
        raise NotFound(f"The provider's output link answered HTTP {response.status_code} (expired or gone).")
    if response.status_code != 200:
        raise OutputRejected(f"The provider's output link answered HTTP {response.status_code}.")
    announced = response.headers.get("content-length")
    expected: int | None = None
    if announced is not None:
        try:
            expected = int(announced)
        except ValueError:
            expected = None
        if expected is not None and expected > max_bytes:
            raise OutputRejected(f"The provider's output is {expected} bytes, over the {max_bytes} byte cap.")
    written = 0
    destination.parent.mkdir(parents=True, exist_ok=True)
    with destination.open("wb") as sink:
        for chunk in response.iter_raw(CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise OutputRejected(f"The provider's output passed the {max_bytes} byte cap; download aborted.")
            if time.monotonic() > deadline:
                raise RetryableError("Downloading the output took longer than the deadline.", delay=30.0)
            sink.write(chunk)
    if expected is not None and written != expected:
        raise RetryableError(f"The output download was truncated ({written} of {expected} bytes).", delay=10.0)
    return written


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("could not remove a partial download at %s", path)


def json_or_none(response: httpx.Response) -> object | None:
    """The decoded body, or None when it is not JSON (proxies answer HTML on errors)."""
    try:
        return response.json()
    except ValueError:
        return None


def without_url_queries(value):
    """A copy of an answer with query strings cut from URLs: pre-signed output links stay
    out of the payload excerpts stored on job events."""
    if isinstance(value, dict):
        return {key: without_url_queries(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_url_queries(item) for item in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")) and "?" in value:
        return value.split("?", 1)[0] + "?…"
    return value
