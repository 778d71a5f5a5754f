"""Settings from the environment: typed, loud on a bad value, secrets from files."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from lipsync_site.env import env_bool, env_float, env_int, env_list, env_str


def test_strings_come_from_the_variable_or_its_default(monkeypatch):
    monkeypatch.setenv("LS_NAME", "value")
    assert env_str("LS_NAME") == "value"
    assert env_str("LS_MISSING", "fallback") == "fallback"


def test_a_secret_file_wins_over_the_variable_and_is_stripped(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.setenv("LS_KEY", "from-env")
    monkeypatch.setenv("LS_KEY_FILE", str(secret))
    assert env_str("LS_KEY") == "s3cr3t"


def test_an_unreadable_secret_file_stops_the_process(monkeypatch, tmp_path):
    monkeypatch.setenv("LS_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="LS_KEY_FILE"):
        env_str("LS_KEY")


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("On", True), ("0", False), ("off", False)])
def test_booleans_read_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("LS_FLAG", raw)
    assert env_bool("LS_FLAG") is value


def test_an_unset_boolean_takes_its_default(monkeypatch):
    monkeypatch.delenv("LS_FLAG", raising=False)
    assert env_bool("LS_FLAG", True) is True


@pytest.mark.parametrize(
    ("reader", "raw"), [(env_bool, "maybe"), (env_int, "3.5"), (env_int, "ten"), (env_float, "fast")]
)
def test_a_value_that_does_not_parse_fails_loudly_naming_the_variable(monkeypatch, reader, raw):
    monkeypatch.setenv("LS_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match="LS_VALUE"):
        reader("LS_VALUE", 1) if reader is not env_bool else reader("LS_VALUE")


def test_numbers_parse_and_blank_means_default(monkeypatch):
    monkeypatch.setenv("LS_INT", "42")
    monkeypatch.setenv("LS_FLOAT", "0.25")
    monkeypatch.setenv("LS_BLANK", "  ")
    assert env_int("LS_INT", 1) == 42
    assert env_float("LS_FLOAT", 1.0) == 0.25
    assert env_int("LS_BLANK", 7) == 7


def test_lists_split_on_commas_and_drop_blanks(monkeypatch):
    monkeypatch.setenv("LS_HOSTS", " a.example, ,b.example ")
    assert env_list("LS_HOSTS") == ["a.example", "b.example"]
    monkeypatch.delenv("LS_HOSTS")
    assert env_list("LS_HOSTS", ["default"]) == ["default"]
