"""The only code that changes users, their depots, login sessions and API tokens.

Users and their roles and depots are custody state: every change is an event
on the ledger (``user.created``, ``user.changed``, ``user.password_set``).
Secrets never enter the ledger: password hashes are written beside the event,
and login sessions, login failures and API tokens are operational tables
outside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sized
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.events import UserChanged, UserCreated, UserPasswordSet
from caliber.accounts.models import ApiToken, LoginSession, Role, User, UserDepot
from caliber.accounts.passwords import check_password_rules, hash_password, hash_secret, new_secret, verify_password
from caliber.accounts.schemas import NewUser, UserUpdate
from caliber.accounts.throttle import LoginKeys, failures_of, refuse_if_throttled
from caliber.db import AnyQuery, new_id
from caliber.depots.service import DepotService
from caliber.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from caliber.ledger.events import Change, Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger, apply_changes, changes_of

__all__ = ["AccountService", "UserView", "appliers"]

appliers = Appliers("accounts", tables=["user_account", "user_depot"])
"""The events of users and their depots, and what applies them."""

SESSION_PREFIX = "cal_ses_"
TOKEN_PREFIX = "cal_tok_"  # noqa: S105 (a prefix, not a secret)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor_rows(credential: Any, *conditions: Any) -> AnyQuery:
    """The user behind a credential row, once per depot assigned (once with no depot)."""
    return (
        select(User.id, User.username, User.display_name, User.role, User.jurisdictions, UserDepot.depot_id)
        .join(credential, credential.user_id == User.id)
        .outerjoin(UserDepot, UserDepot.user_id == User.id)
        .where(credential.token_hash == bindparam("token_hash"), User.active.is_(True), *conditions)
    )


_SESSION_ACTOR = _actor_rows(LoginSession, LoginSession.expires_at > bindparam("now", type_=LoginSession.expires_at.type))
_TOKEN_ACTOR = _actor_rows(ApiToken, ApiToken.revoked_at.is_(None))


class UserView:
    """A user with the codes of the depots and jurisdictions assigned to them."""

    __slots__ = ("depots", "jurisdictions", "user")

    def __init__(self, user: User, depots: list[str], jurisdictions: list[str] | None = None) -> None:
        self.user = user
        self.depots = depots
        self.jurisdictions = jurisdictions or []


class AccountService:
    """Users, roles, depot assignments, logins and API tokens."""

    def __init__(self, ledger: Ledger, session_hours: int = 12) -> None:
        self.ledger = ledger
        self.db = ledger.db
        self.session_lifetime = dt.timedelta(hours=session_hours)
        self.clock: Callable[[], dt.datetime] = _now
        """When login attempts happen: the wall clock (tests set their own)."""

    # -- who is asking ---------------------------------------------------

    async def actor_for_session(self, secret: str) -> Actor | None:
        """The actor behind a session cookie, or None if it is unknown, expired or its user inactive."""
        return await self._actor(_SESSION_ACTOR, token_hash=hash_secret(secret), now=_now())

    async def actor_for_token(self, secret: str) -> Actor | None:
        """The actor behind an API bearer token, or None if it is unknown, revoked or its user inactive."""
        return await self._actor(_TOKEN_ACTOR, token_hash=hash_secret(secret))

    async def _actor(self, statement: AnyQuery, **params: Any) -> Actor | None:
        """Every request asks this: one statement (two for a reader assigned jurisdictions), no transaction."""
        rows = await self.db.fetch(statement, **params)
        if not rows:
            return None
        user_id, username, display_name, role, assigned, _ = rows[0]
        jurisdictions = frozenset(code for code in assigned.split(",") if code)
        if jurisdictions:
            depot_ids = await DepotService.depot_ids_in(self.db, jurisdictions)
        else:
            depot_ids = frozenset(depot_id for *_, depot_id in rows if depot_id is not None)
        return Actor(user_id, username, display_name, Role(role), depot_ids=depot_ids, jurisdictions=jurisdictions)

    # -- login -----------------------------------------------------------

    async def login(self, username: str, password: str, address: str) -> tuple[Actor, str]:
        """Check a password from the client ``address`` and open a session; returns the actor and the cookie secret.

        An attempt that must wait after failures of its address or username (:mod:`caliber.accounts.throttle`) is
        refused with :class:`TooManyAttempts` before the password is checked.
        """
        username = username.strip().lower()
        keys = LoginKeys.of(username, address)
        now = self.clock()
        async with self.db.write() as session:
            await refuse_if_throttled(session, keys, now)
            user = await session.scalar(select(User).where(User.username == username))
            accepted = verify_password(user.password_hash if user else None, password) and user is not None and user.active
            if not accepted or user is None:
                session.add_all(failures_of(keys, now))
            else:
                secret = new_secret(SESSION_PREFIX)
                expires_at = _now() + self.session_lifetime
                session.add(LoginSession(token_hash=hash_secret(secret), user_id=user.id, expires_at=expires_at))
                await session.execute(delete(LoginSession).where(LoginSession.expires_at < _now()))
        if not accepted or user is None:  # raised after the commit, so that the failure counts
            raise InvalidInput("wrong username or password, or the account is inactive")
        actor = await self.actor_for_session(secret)  # as every later request of this session will see it
        if actor is None:  # pragma: no cover (deactivated in the instant since the commit)
            raise InvalidInput("wrong username or password, or the account is inactive")
        return actor, secret

    async def logout(self, secret: str) -> None:
        """End the session behind a cookie secret (nothing happens if it is unknown)."""
        async with self.db.write() as session:
            await session.execute(delete(LoginSession).where(LoginSession.token_hash == hash_secret(secret)))

    # -- users -----------------------------------------------------------

    async def users(self, actor: Actor) -> list[UserView]:
        """Every user with their depots (admins only)."""
        actor.require_role(Role.ADMIN)
        async with self.db.read() as session:
            users = list(await session.scalars(select(User).order_by(User.username)))
            return await _with_depots(session, users)

    async def user(self, actor: Actor, user_id: UUID) -> UserView:
        """One user; admins see anyone, others only themselves."""
        if actor.role is not Role.ADMIN and actor.id != user_id:
            raise PermissionDenied("only admins can see other users")
        async with self.db.read() as session:
            user = await _get_user(session, user_id)
            return (await _with_depots(session, [user]))[0]

    async def create_user(self, actor: Actor, new: NewUser) -> UserView:
        """Create a user with a role and depots (admins only)."""
        actor.require_role(Role.ADMIN)
        _require_password_rules(new.password)
        password_hash = hash_password(new.password)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            if await session.scalar(select(User.id).where(User.username == new.username)):
                raise Conflict(f"the username {new.username} is taken")
            depot_ids = await DepotService.depot_ids_for_codes(session, new.depots)
            _require_depots_fit_role(new.role, depot_ids)
            jurisdictions = await _checked_jurisdictions(session, new.role, new.jurisdictions)
            user_id = new_id()
            event = UserCreated(
                id=user_id,
                username=new.username,
                display_name=new.display_name.strip(),
                organisation=new.organisation.strip(),
                role=new.role,
                depots=sorted(depot_ids.values()),
                jurisdictions=jurisdictions,
            )
            await tx.record(event, [user_subject(user_id)])
            user = await _get_user(session, user_id)
            user.password_hash = password_hash
            return UserView(user, sorted(depot_ids), jurisdictions)

    async def update_user(self, actor: Actor, user_id: UUID, changes: UserUpdate) -> UserView:
        """Change a user's name, organisation, role, depots or active flag (admins only)."""
        actor.require_role(Role.ADMIN)
        async with self.ledger.write(actor) as tx:
            session = tx.session
            user = await _get_user(session, user_id)
            if actor.id == user.id and (changes.active is False or changes.role not in (None, Role.ADMIN)):
                raise Conflict("you cannot deactivate yourself or drop your own admin role")
            wanted: dict[str, Any] = {
                "display_name": changes.display_name.strip() if changes.display_name is not None else None,
                "organisation": changes.organisation.strip() if changes.organisation is not None else None,
                "role": changes.role.value if changes.role is not None else None,
                "active": changes.active,
            }
            diff = changes_of(user, wanted)
            current = sorted(
                str(depot_id) for depot_id in await session.scalars(select(UserDepot.depot_id).where(UserDepot.user_id == user.id))
            )
            if changes.depots is not None:
                wanted_depots = sorted(
                    str(depot_id) for depot_id in (await DepotService.depot_ids_for_codes(session, changes.depots)).values()
                )
                if wanted_depots != current:
                    diff["depots"] = Change(current, wanted_depots)
            role = Role(wanted["role"] or user.role)
            _require_depots_fit_role(role, diff["depots"].new if "depots" in diff else current)
            assigned = _jurisdictions_of(user)
            jurisdictions = await _checked_jurisdictions(
                session, role, assigned if changes.jurisdictions is None else changes.jurisdictions
            )
            if jurisdictions != assigned:
                diff["jurisdictions"] = Change(assigned, jurisdictions)
            if diff:
                await tx.record(UserChanged(id=user.id, changes=diff), [user_subject(user.id)])
            if changes.active is False:
                await session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
            return (await _with_depots(session, [user]))[0]

    async def set_password(self, actor: Actor, user_id: UUID, password: str) -> None:
        """Set a new password; admins for anyone, a user for themselves. Ends the user's sessions."""
        if actor.role is not Role.ADMIN and actor.id != user_id:
            raise PermissionDenied("only admins can reset another user's password")
        _require_password_rules(password)
        password_hash = hash_password(password)
        async with self.ledger.write(actor) as tx:
            user = await _get_user(tx.session, user_id)
            await tx.record(UserPasswordSet(id=user.id), [user_subject(user.id)])
            user.password_hash = password_hash
            await tx.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))

    # -- API tokens ------------------------------------------------------

    async def tokens(self, actor: Actor) -> list[ApiToken]:
        """The actor's own API tokens, newest first."""
        async with self.db.read() as session:
            query = select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.id.desc())
            return list(await session.scalars(query))

    async def create_token(self, actor: Actor, name: str) -> tuple[ApiToken, str]:
        """A new API token for the actor; the secret is returned once and stored only hashed."""
        if actor.id is None:
            raise PermissionDenied("API tokens belong to users: log in as one")
        secret = new_secret(TOKEN_PREFIX)
        async with self.db.write() as session:
            token = ApiToken(token_hash=hash_secret(secret), prefix=secret[: len(TOKEN_PREFIX) + 4], name=name.strip(), user_id=actor.id)
            session.add(token)
            await session.flush()
            return token, secret

    async def revoke_token(self, actor: Actor, token_id: UUID) -> ApiToken:
        """Revoke an API token: its owner or an admin."""
        async with self.db.write() as session:
            token = await session.get(ApiToken, token_id)
            if token is None or (token.user_id != actor.id and actor.role is not Role.ADMIN):
                raise NotFound(f"no API token with id {token_id}")
            if token.revoked_at is None:
                token.revoked_at = _now()
            return token


async def _checked_jurisdictions(session: AsyncSession, role: Role, codes: list[str]) -> list[str]:
    """``codes`` sorted, if they name jurisdictions and the role reads by jurisdiction; :class:`InvalidInput` otherwise."""
    wanted = sorted(set(codes))
    if wanted and not role.reads_by_jurisdiction:
        raise InvalidInput("only inspectors and ministry officials are assigned jurisdictions", field="jurisdictions")
    known = {j.code for j in await DepotService.jurisdictions_in(session)}
    if unknown := [code for code in wanted if code not in known]:
        raise InvalidInput(f"no jurisdiction {', '.join(unknown)}; they are {', '.join(sorted(known))}", field="jurisdictions")
    return wanted


def _require_password_rules(password: str) -> None:
    problem = check_password_rules(password)
    if problem:
        raise InvalidInput(problem, field="password")


def _require_depots_fit_role(role: Role, depot_ids: Sized) -> None:
    if role.is_depot_staff and not depot_ids:
        raise InvalidInput(f"a {role.value} must be assigned at least one depot", field="depots")


async def _get_user(session: AsyncSession, user_id: UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


async def _with_depots(session: AsyncSession, users: list[User]) -> list[UserView]:
    ids = [u.id for u in users]
    rows = await session.execute(select(UserDepot.user_id, UserDepot.depot_id).where(UserDepot.user_id.in_(ids)))
    pairs = [(user_id, depot_id) for user_id, depot_id in rows]
    codes = await DepotService.depot_codes(session, {depot_id for _, depot_id in pairs})
    by_user: dict[UUID, list[str]] = {}
    for user_id, depot_id in pairs:
        by_user.setdefault(user_id, []).append(codes[depot_id])
    return [UserView(user, sorted(by_user.get(user.id, [])), _jurisdictions_of(user)) for user in users]


def _jurisdictions_of(user: User) -> list[str]:
    return sorted(code for code in user.jurisdictions.split(",") if code)


def user_subject(user_id: UUID) -> str:
    """The ledger subject of a user."""
    return f"user:{user_id}"


# -- appliers: the one place each event changes the tables (live and on replay) --

UNUSABLE_PASSWORD = "!"  # noqa: S105 (not a password: a hash no password matches, until the service sets one)


@appliers.on(UserCreated)
async def _user_created(session: AsyncSession, event: Recorded[UserCreated]) -> None:
    data = event.data
    session.add(
        User(
            id=data.id,
            username=data.username,
            display_name=data.display_name,
            organisation=data.organisation,
            role=data.role.value,
            password_hash=UNUSABLE_PASSWORD,
            jurisdictions=",".join(data.jurisdictions),
        )
    )
    await session.flush()
    session.add_all(UserDepot(user_id=data.id, depot_id=depot_id) for depot_id in data.depots)
    await session.flush()


@appliers.on(UserChanged)
async def _user_changed(session: AsyncSession, event: Recorded[UserChanged]) -> None:
    data = event.data
    user = await _get_user(session, data.id)
    changes = dict(data.changes)
    if (depots := changes.pop("depots", None)) is not None:
        await session.execute(delete(UserDepot).where(UserDepot.user_id == user.id))
        session.add_all(UserDepot(user_id=user.id, depot_id=UUID(depot_id)) for depot_id in depots.new)
    if (jurisdictions := changes.pop("jurisdictions", None)) is not None:
        user.jurisdictions = ",".join(jurisdictions.new)
    apply_changes(user, changes)
    await session.flush()


@appliers.on(UserPasswordSet)
async def _password_set(session: AsyncSession, event: Recorded[UserPasswordSet]) -> None:
    """The hash stays out of the ledger; the event only records that it changed."""
    await _get_user(session, event.data.id)
