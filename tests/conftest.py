import pytest
from django.contrib.auth import get_user_model

from lipsync_site.credits.services import grant_credits
from lipsync_site.workspaces.services import create_workspace
from tests import mediafactory
from tests.objectstore import *  # noqa: F403 (fixtures: s3_server, s3_storage, media_storage)


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Every test writes media, engine scratch files and uploads under its own tmp dir."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.MEDIA_ROOT.mkdir(parents=True)
    settings.CONSENT_REVIEW_POLICY = "after"
    # Tests make many accounts; the production hasher spends most of a second on each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sync_tasks(monkeypatch):
    """django-q2 runs tasks inline (its documented sync mode) instead of via a cluster."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def _user(username, credits=0):
    """A user with a verified address and a workspace of their own holding ``credits``."""
    from allauth.account.models import EmailAddress

    email = f"{username}@example.com"
    user = get_user_model().objects.create_user(username=username, email=email, password="pw-" + username * 2)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    workspace = create_workspace(name=f"{username}'s workspace", owner=user, personal=True)
    if credits:
        grant_credits(workspace=workspace, amount=credits, reason="test allowance")
    return user


@pytest.fixture
def owner(db):
    return _user("owner", credits=1000)


@pytest.fixture
def outsider(db):
    return _user("outsider", credits=1000)


class Team:
    """A workspace with one person in each role (named by role), and its credits."""

    def __init__(self, credits):
        from lipsync_site.workspaces.models import Membership
        from lipsync_site.workspaces.roles import Role

        self.owner = _user("team-owner")
        self.workspace = create_workspace(name="Acme marketing", owner=self.owner)
        self.admin = _user("team-admin")
        self.member = _user("team-member")
        self.viewer = _user("team-viewer")
        for user, role in ((self.admin, Role.ADMIN), (self.member, Role.MEMBER), (self.viewer, Role.VIEWER)):
            Membership.objects.create(workspace=self.workspace, user=user, role=role)
        if credits:
            grant_credits(workspace=self.workspace, amount=credits, reason="team allowance")

    def user(self, role: str):
        return getattr(self, role)

    def membership(self, role: str):
        return self.workspace.memberships.get(user=self.user(role))


@pytest.fixture
def team(db):
    team = Team(credits=1000)
    return team


def switch_client_to(client, user, workspace):
    """Sign ``client`` in as ``user`` working in ``workspace``."""
    from lipsync_site.workspaces.access import SESSION_KEY

    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = workspace.pk
    session.save()
    return client


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def media_dir(tmp_path):
    path = tmp_path / "inputs"
    path.mkdir()
    return path


@pytest.fixture
def clip(media_dir):
    return mediafactory.make_video(media_dir / "clip.mp4", seconds=2.0)


@pytest.fixture
def voice(media_dir):
    return mediafactory.make_audio(media_dir / "voice.wav", seconds=2.0)


@pytest.fixture
def portrait(media_dir):
    return mediafactory.make_image(media_dir / "portrait.png")


# --- A test database other processes and threads can share -----------------------------
@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, the test database is a file rather than shared memory: the live server,
    tracker threads and real worker subprocesses then each use their own connection (WAL
    and the busy timeout make them wait their turn), instead of sharing one in-memory
    connection across threads, which fails with "database table is locked"."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


# --- PostgreSQL-only tests, and the ledger tripwire after every database test -----------
DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (DATABASE_URL=postgres://...): SQLite ignores select_for_update, "
        "so row-lock races cannot be shown on it"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def _uses_db(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(DB_FIXTURES & set(item.fixturenames))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test that touched the database passes, the ledger must still be clean:
    balances equal their entries, no hold settled twice, every finished job settled."""
    result = yield
    if _uses_db(item):
        from lipsync_site.credits.invariants import ledger_problems

        problems = ledger_problems()
        assert not problems, "ledger invariants broken:\n" + "\n".join(problems)
    return result


# --- Real headless Chromium (Debian's package; Playwright's own download cannot work here)
# Playwright launches headless with a fresh temporary profile of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path():
    """Browser tests never skip themselves: without Chromium they fail, saying how to fix it."""
    import os
    import shutil

    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is missing: run scripts/ensure-chromium (apt-get install chromium) or set CHROMIUM_PATH")
    return path


@pytest.fixture
def page(live_server, chromium_path):
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between browser steps are ordinary blocking calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(30_000)
        yield page
        browser.close()
