import pytest
from django.contrib.auth import get_user_model

from lipsync_site.credits.services import grant_credits
from tests import mediafactory


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Every test writes media, engine scratch files and uploads under its own tmp dir."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.MEDIA_ROOT.mkdir(parents=True)
    settings.CONSENT_REVIEW_POLICY = "after"


@pytest.fixture
def sync_tasks(monkeypatch):
    """django-q2 runs tasks inline (its documented sync mode) instead of via a cluster."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def _user(username, credits=0):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username * 2)
    if credits:
        grant_credits(user=user, amount=credits, reason="test allowance")
    return user


@pytest.fixture
def owner(db):
    return _user("owner", credits=1000)


@pytest.fixture
def outsider(db):
    return _user("outsider", credits=1000)


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
