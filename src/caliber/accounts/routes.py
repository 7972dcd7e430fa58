"""Login pages, user administration, API tokens: pages and JSON API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from caliber.accounts.actor import Actor
from caliber.accounts.guards import SESSION_COOKIE, requires
from caliber.accounts.models import Role
from caliber.accounts.schemas import (
    LoginForm,
    NewToken,
    NewUser,
    PasswordReset,
    TokenCreated,
    TokenOut,
    UserOut,
    UserUpdate,
)
from caliber.accounts.service import AccountService, UserView
from caliber.config import Settings
from caliber.depots.service import DepotService
from caliber.errors import CORRECTABLE, CaliberError, InvalidInput
from caliber.hardening import client_address
from caliber.schemas import convert
from caliber.web import form_data, page, safe_next

__all__ = ["AccountPages", "LoginPages", "TokenApi", "UserApi", "UserPages"]

admin_only = [requires(Role.ADMIN)]


def user_out(view: UserView) -> UserOut:
    """A user as the API shows it."""
    user = view.user
    role = Role(user.role)
    return UserOut(
        user.id, user.username, user.display_name, user.organisation, role, view.depots, user.active, user.created_at, view.jurisdictions
    )


def token_out(token: Any) -> TokenOut:
    """An API token as listed."""
    return TokenOut(token.id, token.name, token.prefix, token.created_at, token.revoked_at)


class LoginPages(Controller):
    """Log in and out of the pages."""

    include_in_schema = False

    @get("/login", opt={"public": True})
    async def login_page(self, request: Request[Any, Any, Any], next: FromQuery[str] = "/") -> Template:  # noqa: A002
        """The login form."""
        return page(request, "accounts/login.html", next=safe_next(next), error=None)

    @post("/login", opt={"public": True})
    async def login(
        self, request: Request[Any, Any, Any], accounts: NamedDependency[AccountService], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Check the password, set the session cookie, go where the user was going."""
        form = convert(await form_data(request), LoginForm)
        address = client_address(request.scope) or "unknown"
        try:
            _actor, secret = await accounts.login(form.username, form.password, address)
        except InvalidInput as exc:
            return page(request, "accounts/login.html", status_code=401, next=safe_next(form.next), error=exc, username=form.username)
        response: Response[Any] = Redirect(safe_next(form.next))
        response.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=int(accounts.session_lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
        return response

    @post("/logout", opt={"public": True})
    async def logout(self, request: Request[Any, Any, Any], accounts: NamedDependency[AccountService]) -> Redirect:
        """End the session and forget the cookie."""
        if secret := request.cookies.get(SESSION_COOKIE):
            await accounts.logout(secret)
        response = Redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response


class UserPages(Controller):
    """Administration of users (admins only)."""

    path = "/users"
    guards = admin_only
    include_in_schema = False

    @get("/")
    async def list_users(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> Template:
        """Every user with role, depots and status."""
        return page(request, "accounts/users.html", users=await accounts.users(actor))

    @get("/new")
    async def new_user_form(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], inventory: NamedDependency[DepotService]
    ) -> Template:
        """The form for a new user."""
        return await _user_form(request, actor, inventory, view=None, values={}, error=None)

    @post("/new")
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        accounts: NamedDependency[AccountService],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Create the user, or show the form again with what is wrong."""
        values = await form_data(request, "depots", "jurisdictions")
        try:
            view = await accounts.create_user(actor, convert(values, NewUser))
        except CORRECTABLE as exc:
            return await _user_form(request, actor, inventory, view=None, values=values, error=exc)
        return Redirect(f"/users/{view.user.id}")

    @get("/{user_id:uuid}")
    async def edit_user_form(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        accounts: NamedDependency[AccountService],
        inventory: NamedDependency[DepotService],
    ) -> Template:
        """A user's details with forms to change them and reset the password."""
        view = await accounts.user(actor, user_id)
        return await _user_form(request, actor, inventory, view=view, values={}, error=None)

    @post("/{user_id:uuid}")
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        accounts: NamedDependency[AccountService],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Save changes to a user."""
        values = await form_data(request, "depots", "jurisdictions")
        values["active"] = values.get("active") == "on"
        try:
            await accounts.update_user(actor, user_id, convert(values, UserUpdate))
        except CORRECTABLE as exc:
            view = await accounts.user(actor, user_id)
            return await _user_form(request, actor, inventory, view=view, values=values, error=exc)
        return Redirect(f"/users/{user_id}?saved=1")

    @post("/{user_id:uuid}/password")
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        accounts: NamedDependency[AccountService],
        inventory: NamedDependency[DepotService],
    ) -> Response[Any]:
        """Set a new password for the user."""
        values = await form_data(request)
        try:
            await accounts.set_password(actor, user_id, convert(values, PasswordReset).password)
        except InvalidInput as exc:
            view = await accounts.user(actor, user_id)
            return await _user_form(request, actor, inventory, view=view, values={}, error=exc)
        return Redirect(f"/users/{user_id}?password=1")


async def _user_form(
    request: Request[Any, Any, Any],
    actor: Actor,
    inventory: DepotService,
    *,
    view: UserView | None,
    values: dict[str, Any],
    error: CaliberError | str | None,
) -> Template:
    return page(
        request,
        "accounts/user_form.html",
        status_code=422 if error else 200,
        view=view,
        values=values,
        error=error,
        role_choices=list(Role),
        depots=await inventory.depots(actor),
        jurisdictions=await inventory.jurisdictions(),
    )


class AccountPages(Controller):
    """The current user's own page: password and API tokens."""

    path = "/account"
    include_in_schema = False

    @get("/")
    async def account(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> Template:
        """Own details and API tokens."""
        return page(request, "accounts/account.html", tokens=await accounts.tokens(actor), new_token=None, error=None)

    @post("/tokens")
    async def create_token(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> Template:
        """Create an API token and show its secret once."""
        values = await form_data(request)
        try:
            name = convert(values, NewToken).name
        except InvalidInput as exc:
            tokens = await accounts.tokens(actor)
            return page(request, "accounts/account.html", status_code=422, tokens=tokens, new_token=None, error=exc, values=values)
        token, secret = await accounts.create_token(actor, name)
        return page(request, "accounts/account.html", tokens=await accounts.tokens(actor), new_token=(token, secret), error=None)

    @post("/tokens/{token_id:uuid}/revoke")
    async def revoke_token(
        self, token_id: FromPath[UUID], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> Redirect:
        """Revoke one of the user's tokens."""
        await accounts.revoke_token(actor, token_id)
        return Redirect("/account")

    @post("/password")
    async def change_password(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> Response[Any]:
        """Change one's own password (this ends every session, so log in again)."""
        try:
            await accounts.set_password(actor, actor.id, convert(await form_data(request), PasswordReset).password)  # type: ignore[arg-type]
        except InvalidInput as exc:
            return page(request, "accounts/account.html", status_code=422, tokens=await accounts.tokens(actor), new_token=None, error=exc)
        return Redirect("/login")


class UserApi(Controller):
    """JSON API for users."""

    path = "/api/users"
    tags = ["accounts"]

    @get("/me")
    async def me(self, actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]) -> UserOut:
        """The user making the request."""
        if actor.id is None:  # pragma: no cover (the operator never calls over HTTP)
            raise InvalidInput("not a user")
        return user_out(await accounts.user(actor, actor.id))

    @get("/", guards=admin_only)
    async def list_users(self, actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]) -> list[UserOut]:
        """Every user (admins only)."""
        return [user_out(view) for view in await accounts.users(actor)]

    @post("/", guards=admin_only, status_code=HTTP_201_CREATED)
    async def create_user(
        self, data: JSONBody[NewUser], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> UserOut:
        """Create a user with a role and depots (admins only)."""
        return user_out(await accounts.create_user(actor, data))

    @get("/{user_id:uuid}", guards=admin_only)
    async def get_user(self, user_id: FromPath[UUID], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]) -> UserOut:
        """One user (admins only)."""
        return user_out(await accounts.user(actor, user_id))

    @patch("/{user_id:uuid}", guards=admin_only)
    async def update_user(
        self, user_id: FromPath[UUID], data: JSONBody[UserUpdate], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> UserOut:
        """Change a user's name, organisation, role, depots or active flag (admins only)."""
        return user_out(await accounts.update_user(actor, user_id, data))

    @post("/{user_id:uuid}/password", guards=admin_only, status_code=204)
    async def reset_password(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[PasswordReset],
        actor: NamedDependency[Actor],
        accounts: NamedDependency[AccountService],
    ) -> None:
        """Set a new password for a user and end their sessions (admins only)."""
        await accounts.set_password(actor, user_id, data.password)


class TokenApi(Controller):
    """JSON API for the current user's API tokens."""

    path = "/api/tokens"
    tags = ["accounts"]

    @get("/")
    async def list_tokens(self, actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]) -> list[TokenOut]:
        """The current user's tokens."""
        return [token_out(token) for token in await accounts.tokens(actor)]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_token(
        self, data: JSONBody[NewToken], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> TokenCreated:
        """Create a token; its secret is in this answer only."""
        token, secret = await accounts.create_token(actor, data.name)
        return TokenCreated(token.id, token.name, secret)

    @post("/{token_id:uuid}/revoke")
    async def revoke_token(
        self, token_id: FromPath[UUID], actor: NamedDependency[Actor], accounts: NamedDependency[AccountService]
    ) -> TokenOut:
        """Revoke a token (its owner, or an admin)."""
        return token_out(await accounts.revoke_token(actor, token_id))
