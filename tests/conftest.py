import pytest


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Every test writes media, engine scratch files and uploads under its own tmp dir."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.MEDIA_ROOT.mkdir(parents=True)
