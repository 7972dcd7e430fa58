"""Settings read from ``CALIBER_*`` environment variables.

Every value is checked once, at start; a bad one raises :class:`SettingsError`
with one line that names the variable and what is wrong with it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Settings", "SettingsError", "TrustedProxies", "resource_path"]

_SECRET_FILE = "secret_key"  # noqa: S105 (a file name)
_MIN_SECRET_LENGTH = 32
_LOG_KEY_FILE = "log-key"  # the signer's key file (caliber.ledger.signer.KEY_FILE), which names its origin
_KEY_PREFIX = "PRIVATE+KEY+"


class SettingsError(ValueError):
    """A ``CALIBER_*`` variable holds a value Caliber cannot use."""


class TrustedProxies:
    """The networks of ``CALIBER_TRUSTED_PROXIES``: reverse proxies whose ``X-Forwarded-For`` is believed."""

    __slots__ = ("networks",)

    def __init__(self, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()) -> None:
        self.networks = networks

    def __contains__(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustedProxies) and other.networks == self.networks

    def __hash__(self) -> int:
        return hash(self.networks)

    def __repr__(self) -> str:
        return f"TrustedProxies({', '.join(map(str, self.networks))})"


def resource_path(name: str) -> Path:
    """Folder of a shipped resource (``templates``, ``static``, ``migrations``, ``labels``).

    An installed wheel carries them inside the package; a source checkout keeps
    them at the top of the repository.
    """
    packaged = Path(__file__).parent / "_resources" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings of one Caliber deployment."""

    data_dir: Path
    database_url: str
    base_url: str
    secret_key: str
    session_hours: int = 12
    log_origin: str = "caliber.local/ledger"
    log_key: str | None = None
    """The log's signer key (``CALIBER_LOG_KEY``); without it, a key kept in the data dir."""
    full_count_days: int = 365
    """How often every depot needs a full stock check (``CALIBER_FULL_COUNT_DAYS``)."""
    time_zone: str = "Europe/Belgrade"
    """The deployment's local time zone (``CALIBER_TIME_ZONE``, IANA name): times typed on pages and report periods."""
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    """Reverse proxies whose ``X-Forwarded-For`` is believed (``CALIBER_TRUSTED_PROXIES``, comma-separated CIDRs)."""

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when the site is served over https."""
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, create: bool = True) -> Settings:
        """Read settings from ``environ`` (default: the process environment).

        With ``create`` the data dir and a generated secret key are written when
        missing; without it nothing is written (used by read-only commands).
        """
        env = os.environ if environ is None else environ
        data_dir = _data_dir(env.get("CALIBER_DATA_DIR", "./caliber-data"))
        database_url = _database_url(env.get("CALIBER_DATABASE_URL", ""), data_dir)
        base_url = _base_url(env.get("CALIBER_BASE_URL", "http://127.0.0.1:8000"))
        session_hours = _positive_int("CALIBER_SESSION_HOURS", env.get("CALIBER_SESSION_HOURS", "12"), 24 * 30)
        if create:
            _make_data_dir(data_dir)
        secret_key = _secret_key(env.get("CALIBER_SECRET_KEY"), data_dir, create=create)
        log_key = env.get("CALIBER_LOG_KEY") or None
        log_origin = _log_origin(env.get("CALIBER_LOG_ORIGIN"), log_key, data_dir, base_url)
        if log_key is not None and not log_key.startswith(f"PRIVATE+KEY+{log_origin}+"):
            raise SettingsError(f"CALIBER_LOG_KEY: must be a signer key for the origin {log_origin} (PRIVATE+KEY+{log_origin}+…)")
        full_count_days = _positive_int("CALIBER_FULL_COUNT_DAYS", env.get("CALIBER_FULL_COUNT_DAYS", "365"), 3650)
        time_zone = _time_zone(env.get("CALIBER_TIME_ZONE", "Europe/Belgrade"))
        trusted_proxies = _trusted_proxies(env.get("CALIBER_TRUSTED_PROXIES", ""))
        return cls(
            data_dir, database_url, base_url, secret_key, session_hours, log_origin, log_key, full_count_days, time_zone, trusted_proxies
        )


def _data_dir(raw: str) -> Path:
    if not raw.strip() or "\x00" in raw:
        raise SettingsError("CALIBER_DATA_DIR: must name a folder, got an empty or invalid path")
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"CALIBER_DATA_DIR: {str(path)!r} exists and is not a folder")
    return path.resolve()


def _make_data_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"CALIBER_DATA_DIR: cannot create {str(path)!r}: {exc.strerror}") from exc


def _database_url(raw: str, data_dir: Path) -> str:
    raw = raw.strip()
    if not raw:
        return f"sqlite+aiosqlite:///{data_dir / 'caliber.db'}"
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise SettingsError(f"CALIBER_DATABASE_URL: expected a URL such as postgresql://user@host/db, got {raw!r}")
    if scheme in {"postgresql", "postgres", "postgresql+asyncpg"}:
        if not urlsplit(raw).hostname and "host=" not in raw:
            raise SettingsError("CALIBER_DATABASE_URL: a PostgreSQL URL must name a host")
        return f"postgresql+asyncpg://{rest}"
    if scheme in {"sqlite", "sqlite+aiosqlite"}:
        file = rest.removeprefix("/")
        if not file or file == ":memory:":
            raise SettingsError("CALIBER_DATABASE_URL: SQLite needs a file (an in-memory database loses the ledger)")
        path = Path(file) if file.startswith("/") else data_dir / file
        return f"sqlite+aiosqlite:///{path}"
    raise SettingsError(f"CALIBER_DATABASE_URL: unsupported database {scheme!r}; use sqlite or postgresql")


def _base_url(raw: str) -> str:
    raw = raw.strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"CALIBER_BASE_URL: must be an http:// or https:// URL such as https://caliber.example.org, got {raw!r}")
    try:
        parts.port  # noqa: B018  (raises on a port out of range)
    except ValueError as exc:
        raise SettingsError(f"CALIBER_BASE_URL: invalid port in {raw!r}") from exc
    return raw


def _log_origin(raw: str | None, log_key: str | None, data_dir: Path, base_url: str) -> str:
    """The log's origin line (C2SP tlog-checkpoint), fixed when the log is created and kept in its key.

    ``CALIBER_LOG_ORIGIN`` when set; else the name in the log's key (``CALIBER_LOG_KEY``, else the data dir's
    ``log-key``); a new log without either is named after the base URL's host and path, then ``/ledger``.
    Changing the base URL later moves where labels point, never the log's name.
    """
    if raw is None:
        key = log_key or _text_of(data_dir / _LOG_KEY_FILE)
        if key and key.startswith(_KEY_PREFIX) and "+" in key[len(_KEY_PREFIX) :]:
            return key[len(_KEY_PREFIX) :].split("+", 1)[0]
        parts = urlsplit(base_url)
        return f"{parts.netloc}{parts.path}/ledger"
    origin = raw.strip()
    if not origin or not origin.isprintable() or any(ch.isspace() for ch in origin) or "+" in origin:
        raise SettingsError(f"CALIBER_LOG_ORIGIN: must be a name without spaces or '+', such as caliber.example.org/ledger, got {raw!r}")
    return origin


def _text_of(path: Path) -> str | None:
    """The file's text without surrounding white space, or None if it cannot be read."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _time_zone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"CALIBER_TIME_ZONE: {raw!r} is not a time zone name such as Europe/Belgrade or Europe/Tirane") from None
    return raw.strip()


def _trusted_proxies(raw: str) -> TrustedProxies:
    """The networks of ``CALIBER_TRUSTED_PROXIES`` (none by default: ``X-Forwarded-For`` is never believed)."""
    networks = []
    for part in (part.strip() for part in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part))
        except ValueError:
            raise SettingsError(
                f"CALIBER_TRUSTED_PROXIES: {part!r} is not a network such as 10.0.0.0/8 or 192.0.2.10 (comma-separated, no host bits)"
            ) from None
    return TrustedProxies(tuple(networks))


def _positive_int(name: str, raw: str, maximum: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}: must be a whole number, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise SettingsError(f"{name}: must be between 1 and {maximum}, got {value}")
    return value


def _secret_key(raw: str | None, data_dir: Path, *, create: bool) -> str:
    if raw is not None:
        if len(raw) < _MIN_SECRET_LENGTH or not raw.isprintable():
            raise SettingsError(f"CALIBER_SECRET_KEY: must be at least {_MIN_SECRET_LENGTH} printable characters")
        return raw
    path = data_dir / _SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    if create:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
    return secret


def load_or_exit() -> Settings:
    """Settings for a command: on a bad value print the one line and exit 2."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"caliber: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
