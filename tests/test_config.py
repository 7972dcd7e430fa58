"""Settings: defaults, the generated secret, and one clear line for every bad value."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliber.config import Settings, SettingsError

VARIABLES = [
    "CALIBER_DATA_DIR",
    "CALIBER_DATABASE_URL",
    "CALIBER_BASE_URL",
    "CALIBER_SECRET_KEY",
    "CALIBER_SESSION_HOURS",
    "CALIBER_LOG_ORIGIN",
    "CALIBER_TRUSTED_PROXIES",
]


def test_defaults_put_sqlite_and_a_generated_secret_in_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    loaded = Settings.from_env({"CALIBER_DATA_DIR": str(data)})
    assert loaded.database_url == f"sqlite+aiosqlite:///{data / 'caliber.db'}"
    assert loaded.is_sqlite
    secret_file = data / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(loaded.secret_key) >= 32
    assert Settings.from_env({"CALIBER_DATA_DIR": str(data)}).secret_key == loaded.secret_key


def test_relative_data_dir_and_sqlite_file_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = Settings.from_env({"CALIBER_DATA_DIR": "here", "CALIBER_DATABASE_URL": "sqlite:///other.db"})
    assert loaded.data_dir == tmp_path / "here"
    assert loaded.database_url == f"sqlite+aiosqlite:///{tmp_path / 'here' / 'other.db'}"


def test_postgresql_urls_use_asyncpg(tmp_path: Path) -> None:
    loaded = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_DATABASE_URL": "postgresql://u@db.example/caliber"})
    assert loaded.database_url == "postgresql+asyncpg://u@db.example/caliber"
    assert not loaded.is_sqlite


def test_the_log_origin_defaults_to_the_base_url_host(tmp_path: Path) -> None:
    loaded = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_BASE_URL": "https://caliber.example.org/rs"})
    assert loaded.log_origin == "caliber.example.org/rs/ledger"


def test_https_base_url_makes_cookies_secure(tmp_path: Path) -> None:
    loaded = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_BASE_URL": "https://caliber.example.org/"})
    assert loaded.base_url == "https://caliber.example.org"
    assert loaded.secure_cookies


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CALIBER_BASE_URL", "ftp://x"),
        ("CALIBER_BASE_URL", "caliber.example.org"),
        ("CALIBER_BASE_URL", "http://host:99999"),
        ("CALIBER_DATABASE_URL", "mysql://x/y"),
        ("CALIBER_DATABASE_URL", "not a url"),
        ("CALIBER_DATABASE_URL", "sqlite:///:memory:"),
        ("CALIBER_SECRET_KEY", "short"),
        ("CALIBER_SESSION_HOURS", "zero"),
        ("CALIBER_SESSION_HOURS", "0"),
        ("CALIBER_DATA_DIR", ""),
        ("CALIBER_LOG_ORIGIN", "two words"),
        ("CALIBER_LOG_ORIGIN", "a+b"),
        ("CALIBER_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("CALIBER_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.org"),
        ("CALIBER_TRUSTED_PROXIES", "10.0.0.5/8"),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path: Path, variable: str, value: str) -> None:
    env = {"CALIBER_DATA_DIR": str(tmp_path), variable: value}
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        Settings.from_env(env)


def test_trusted_proxies_are_comma_separated_networks_and_none_by_default(tmp_path: Path) -> None:
    assert not Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path)}).trusted_proxies
    loaded = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.10 ,2001:db8::/32,"})
    assert [str(network) for network in loaded.trusted_proxies.networks] == ["10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"]
    assert ipaddress.ip_address("10.9.8.7") in loaded.trusted_proxies
    assert ipaddress.ip_address("2001:db8:5::1") in loaded.trusted_proxies
    assert ipaddress.ip_address("192.0.2.11") not in loaded.trusted_proxies


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(SettingsError, match=r"^CALIBER_DATA_DIR: .* is not a folder"):
        Settings.from_env({"CALIBER_DATA_DIR": str(file)})


@settings(max_examples=300, deadline=None)
@given(variable=st.sampled_from(VARIABLES[1:]), value=st.text(max_size=60))
def test_any_value_loads_or_fails_with_one_line_naming_the_variable(
    tmp_path_factory: pytest.TempPathFactory, variable: str, value: str
) -> None:
    data = tmp_path_factory.mktemp("d")
    try:
        Settings.from_env({"CALIBER_DATA_DIR": str(data), variable: value}, create=False)
    except SettingsError as exc:
        message = str(exc)
        assert message.startswith(f"{variable}: ")
        assert "\n" not in message


def test_the_log_origin_is_the_one_its_key_names_whatever_the_base_url_says_later(tmp_path: Path) -> None:
    from caliber.ledger import note
    from caliber.ledger.signer import LogSigner

    first = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_BASE_URL": "http://127.0.0.1:8000"})
    LogSigner.for_data_dir(first.log_origin, tmp_path)  # the log is created: its key names its origin
    moved = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_BASE_URL": "https://caliber.example.org"})
    assert moved.log_origin == first.log_origin == "127.0.0.1:8000/ledger"
    assert moved.base_url == "https://caliber.example.org"  # labels point at the new address
    skey, _vkey = note.generate_key("caliber.example.org/ledger")
    shared = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path / "host"), "CALIBER_LOG_KEY": skey, "CALIBER_BASE_URL": "http://h:1"})
    assert shared.log_origin == "caliber.example.org/ledger"
    named = Settings.from_env({"CALIBER_DATA_DIR": str(tmp_path), "CALIBER_LOG_ORIGIN": "new.example.org/ledger"})
    assert named.log_origin == "new.example.org/ledger"
