"""Who is asking (authentication middleware) and whether they may (route guards).

A request is authenticated by an ``Authorization: Bearer`` API token or by the
session cookie; anonymous requests carry ``user = None`` and are stopped by the
guards of every route that is not marked ``public``.

Every form and every cookie-authenticated API call carries a CSRF token. With
a session cookie the token is bound to that session (:func:`session_csrf_token`);
without one (the login form) it is Litestar's double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, Headers, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_hash, generate_csrf_token
from litestar.types import ASGIApp, Empty, HTTPScope, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.passwords import hash_secret
from caliber.errors import NotAuthenticated

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "AuthenticationMiddleware",
    "BearerAwareCSRFMiddleware",
    "logged_in",
    "requires",
    "session_csrf_token",
]

SESSION_COOKIE = "caliber_session"
CSRF_COOKIE = "caliber_csrf"
CSRF_FIELD = "_csrf_token"
_UNAUTHENTICATED_PREFIXES = ("/static/", "/health")


def bearer_token(headers: Headers) -> str | None:
    """The secret of an ``Authorization: Bearer`` header, if any."""
    scheme, _, secret = headers.get("authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value or None
    return None


class AuthenticationMiddleware:
    """Puts the :class:`Actor` (or None) into ``scope["user"]`` for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            scope["user"] = None
            scope["auth"] = None
            if not scope["path"].startswith(_UNAUTHENTICATED_PREFIXES):
                headers = Headers.from_scope(scope)
                accounts = scope["litestar_app"].state.accounts
                if token := bearer_token(headers):
                    scope["user"] = await accounts.actor_for_token(token)
                    scope["auth"] = "token"
                elif session := _cookie(headers, SESSION_COOKIE):
                    scope["user"] = await accounts.actor_for_session(session)
                    scope["auth"] = "session"
        await self.app(scope, receive, send)


def session_csrf_token(secret_key: str, session: str) -> str:
    """The one CSRF token of the login session behind the cookie secret ``session``.

    An HMAC of the session's hash (what the database keeps of it) under the secret key: a page of another session,
    or a cross-site page, cannot compute it. It has the shape of Litestar's own tokens (a value and its HMAC), so a
    browser whose session cookie has expired still sends a well-formed token.
    """
    value = hmac.new(secret_key.encode(), f"caliber-csrf:{hash_secret(session)}".encode(), hashlib.sha256).hexdigest()
    return value + generate_csrf_hash(value, secret_key)


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, for the requests a cross-site page could forge, bound to the login session.

    A request with a bearer token is authenticated by the token alone (a
    cross-site page cannot set ``Authorization``); an API request without the
    session cookie carries no ambient credentials. Neither needs a CSRF token;
    every page form and every cookie-authenticated API call does: with a
    session cookie, the token of that session (:func:`session_csrf_token`),
    whatever the CSRF cookie says; without one (the login form), Litestar's
    double-submit cookie. A response that sets or ends the session cookie sets
    the CSRF cookie to match, so a new login gets a new binding.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or self._needs_no_token(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        session = _cookie(headers, SESSION_COOKIE)
        cookie = _cookie(headers, self.config.cookie_name)
        try:
            if session is None:
                await super().__call__(scope, receive, self._sending_cookie(send, cookie, None))
            else:
                expected = session_csrf_token(self.config.secret, session)
                await self._check_session_token(scope, receive, self._sending_cookie(send, cookie, expected), expected)
        except PermissionDeniedException:
            # The check may have parsed an upload to look for the token: free its temporary files.
            form = ScopeState.from_scope(scope).form
            if form is not Empty and form:
                await FormMultiDict.from_form_data(form).close()
            raise

    def _needs_no_token(self, scope: Scope) -> bool:
        """Not HTTP, an excluded path, a bearer token, or an API call without the session cookie."""
        if should_bypass_middleware(
            scope=scope, scopes=self.scopes, exclude_opt_key=self.config.exclude_from_csrf_key, exclude_path_pattern=self.exclude
        ):
            return True
        headers = Headers.from_scope(scope)
        no_cookie_api = scope["path"].startswith("/api/") and _cookie(headers, SESSION_COOKIE) is None
        return bool(bearer_token(headers)) or no_cookie_api

    async def _check_session_token(self, scope: HTTPScope, receive: Receive, send: Send, expected: str) -> None:
        """Pass a request of a session on if it is safe or carries the session's token; its pages get that token."""
        if scope["method"] not in self.config.safe_methods:
            sent = await self._sent_token(scope, receive)
            if sent is None or not hmac.compare_digest(sent.encode(), expected.encode()):
                raise PermissionDeniedException("CSRF token verification failed: not the token of this session")
        ScopeState.from_scope(scope).csrf_token = expected
        await self.app(scope, receive, send)

    async def _sent_token(self, scope: Scope, receive: Receive) -> str | None:
        """The token of the ``X-CSRFToken`` header, or of the form's ``_csrf_token`` field, as Litestar reads them."""
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        if token := request.headers.get(self.config.header_name):
            return str(token)
        if request.content_type[0] in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            token = (await request.form()).get(CSRF_FIELD)
            return token if isinstance(token, str) else None
        return None

    def _sending_cookie(self, send: Send, cookie: str | None, token: str | None) -> Send:
        """``send``, setting the CSRF cookie where it does not fit the response.

        To the token of a session cookie the response sets (a fresh unbound one when it ends the session), else to
        ``token`` if the request's cookie was not already it.
        """

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                wanted = self._token_of_new_session(message) or token
                if wanted is not None and wanted != cookie:
                    message.setdefault("headers", [])
                    self._set_cookie_if_needed(message=message, token=wanted)
            await send(message)

        return sending

    def _token_of_new_session(self, message: Message) -> str | None:
        """The CSRF token for the session cookie a response sets; a new unbound one if it ends it; None otherwise."""
        for header in MutableScopeHeaders.from_message(message).getall("set-cookie", []):
            name, _, rest = header.partition("=")
            if name.strip() == SESSION_COOKIE:
                secret = rest.partition(";")[0].strip().strip('"')
                return session_csrf_token(self.config.secret, secret) if secret else generate_csrf_token(self.config.secret)
        return None


def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The actor of an authenticated connection (guards have run before this)."""
    actor = connection.scope.get("user")
    if actor is None:
        raise NotAuthenticated("log in, or send an API token as 'Authorization: Bearer …'")
    return actor  # type: ignore[no-any-return]


async def logged_in(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """App-wide guard: every route needs a login unless it is marked ``public``.

    Guards are coroutines: Litestar runs a plain function guard in a worker thread, a hand-off per guard per request.
    """
    if not handler.opt.get("public"):
        current_actor(connection)


def requires(*roles: Role) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard that admits only ``roles``."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        current_actor(connection).require_role(*roles)

    return guard
