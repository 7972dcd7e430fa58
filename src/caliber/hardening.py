"""What every answer carries and what every request leaves behind.

- Security headers on every response, and on pages a Content-Security-Policy
  that admits only Caliber's own scripts, styles, images and forms, in no
  frame. The OpenAPI pages under ``/schema`` are the one exception: Swagger
  UI starts itself with an inline script.
- One structured (JSON) log line per request: method, path, status, time,
  who asked and from where (:func:`client_address`), and how many custody
  events it appended to the ledger; refused access (401, 403, a failed CSRF
  check among them) as a warning. Never a query string,
  header, cookie, form field or body: passwords, session cookies and API
  tokens do not reach the log.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import time
from typing import Any

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from caliber.config import TrustedProxies
from caliber.ledger.store import APPENDED

__all__ = ["CSP", "JsonFormatter", "RefuseNul", "RequestLog", "client_address", "forwarded_client", "log_config", "security_headers"]

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""The policy of every page: nothing inline, nothing from elsewhere, never inside a frame."""
DOCS_CSP = CSP.replace("script-src 'self';", "script-src 'self' 'unsafe-inline';").replace(
    "style-src 'self';", "style-src 'self' 'unsafe-inline';"
)
"""The OpenAPI pages' policy: Swagger UI starts with an inline script and styles (scripts and styles only)."""
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}
"""Sent with every response."""
access = logging.getLogger("caliber.access")


def client_address(scope: Scope) -> str | None:
    """The address of the client behind a request: the peer, or what the app's trusted proxies say it is."""
    peer = scope.get("client")
    if not peer:
        return None
    settings = scope["litestar_app"].state.get("settings") if "litestar_app" in scope else None
    trusted = settings.trusted_proxies if settings is not None else None
    if not trusted:
        return str(peer[0])
    return forwarded_client(str(peer[0]), Headers.from_scope(scope).getall("x-forwarded-for", []), trusted)


def forwarded_client(peer: str, forwarded_for: list[str], trusted: TrustedProxies) -> str:
    """The right-most address of the chain ``forwarded_for`` + ``peer`` that is not a trusted proxy.

    Each trusted proxy appends the address it was connected from, so the first untrusted address from the right is
    the one no client can forge; the addresses left of it are whatever the client sent. An entry that is no address
    stops the walk at the trusted proxy that passed it on.
    """
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    current = peer
    for hop in reversed([*hops, peer]):
        address = _ip(hop)
        if address is None:
            return current
        current = str(address)
        if address not in trusted:
            return current
    return current


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address (an IPv4 address mapped into IPv6 as the IPv4 address), or None if ``text`` is none."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


async def security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: the security headers, and the policy on HTML answers."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        if name not in headers:
            headers[name] = value
    if headers.get("content-type", "").startswith("text/html"):
        headers["content-security-policy"] = DOCS_CSP if scope["path"].startswith("/schema") else CSP


class RequestLog:
    """ASGI middleware: one log record per HTTP request, with its fields in ``record.fields``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        appended = [0]
        counting = APPENDED.set(appended)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            # Raised before any answer (a failed CSRF check, say): the app's exception handlers, outside this
            # middleware, answer with the error's own status.
            status = _status_of(exc) if status is None else status
            raise
        finally:
            APPENDED.reset(counting)
            _log_request(scope, 500 if status is None else status, (time.perf_counter() - started) * 1000, appended[0])


class RefuseNul:
    """ASGI middleware: a path or query string holding a NUL character is a 400 before any route reads it.

    No record's code, key or text holds one (request bodies are checked field by field), and PostgreSQL refuses
    it in any statement's text.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            query = scope.get("query_string", b"")
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                raise ClientException("the address holds a NUL character (%00): no record is named with one")
        await self.app(scope, receive, send)


def _status_of(exc: Exception) -> int:
    """The status an exception handler answers ``exc`` with: its own ``status_code`` (HTTP and Caliber errors), else 500."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) and 400 <= status <= 599 else 500


def _log_request(scope: HTTPScope, status: int, ms: float, events: int) -> None:
    path = scope["path"]
    if status in {401, 403}:
        level, message = logging.WARNING, "access refused"
    elif status >= 500:
        level, message = logging.ERROR, "request failed"
    else:
        level, message = (logging.DEBUG if path.startswith("/static/") else logging.INFO), "request"
    if not access.isEnabledFor(level):
        return
    user = scope.get("user")
    fields = {
        "method": scope["method"],
        "path": path,
        "status": status,
        "ms": round(ms, 1),
        "user": getattr(user, "username", None),
        "role": getattr(getattr(user, "role", None), "value", None),
        "client": client_address(scope),
        "events": events,
    }
    access.log(level, message, extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object per line: time, level, logger, message, the record's ``fields``, any error."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for servers: Caliber's records as JSON lines on stderr, the server's own at warnings."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "caliber": {"handlers": ["stderr"], "level": level, "propagate": False},
            "_granian": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "granian.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }
