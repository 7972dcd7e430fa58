"""Who is asking (authentication middleware) and whether they may (route guards).

A request is authenticated by an ``Authorization: Bearer`` API token or by the
session cookie; anonymous requests carry ``user = None`` and are stopped by the
guards of every route that is not marked ``public``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, Headers
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Empty, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.errors import NotAuthenticated

__all__ = ["SESSION_COOKIE", "AuthenticationMiddleware", "BearerAwareCSRFMiddleware", "logged_in", "requires"]

SESSION_COOKIE = "caliber_session"
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
        if scope["type"] == "http":
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


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, for the requests a cross-site page could forge.

    A request with a bearer token is authenticated by the token alone (a
    cross-site page cannot set ``Authorization``); an API request without the
    session cookie carries no ambient credentials. Neither needs a CSRF token;
    every page form and every cookie-authenticated API call does.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers.from_scope(scope)
            no_cookie_api = scope["path"].startswith("/api/") and _cookie(headers, SESSION_COOKIE) is None
            if bearer_token(headers) or no_cookie_api:
                await self.app(scope, receive, send)
                return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            # The check may have parsed an upload to look for the token: free its temporary files.
            form = ScopeState.from_scope(scope).form
            if form is not Empty and form:
                await FormMultiDict.from_form_data(form).close()
            raise


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
