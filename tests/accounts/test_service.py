"""Users, logins, throttling and API tokens through the accounts service."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable

import pytest
from sqlalchemy import func, select

from caliber.accounts.models import LoginFailure, Role
from caliber.accounts.schemas import NewUser, UserUpdate
from caliber.accounts.service import AccountService, UserView
from caliber.accounts.throttle import ADDRESS_FREE_FAILURES, ADDRESS_TYPOS, FIRST_DELAY, LONGEST_DELAY, USERNAME_FREE_FAILURES
from caliber.db import Database
from caliber.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TooManyAttempts
from tests.factories import OPERATOR, PASSWORD, Factory


async def fail_logins(accounts: AccountService, attempts: Iterable[tuple[str, str]]) -> None:
    """A wrong password for each (username, address), each checked and refused."""
    for username, address in attempts:
        with pytest.raises(InvalidInput):
            await accounts.login(username, "wrong", address)


async def logs_in(accounts: AccountService, view: UserView, address: str) -> bool:
    """Whether the right password of ``view``'s user opens a session from ``address``."""
    actor, _ = await accounts.login(view.user.username, PASSWORD, address)
    return actor.username == view.user.username


async def test_login_opens_a_session_that_identifies_the_user(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.DEPOT_MANAGER)
    actor, secret = await accounts.login(view.user.username.upper(), PASSWORD, "10.0.0.1")
    assert actor.username == view.user.username
    again = await accounts.actor_for_session(secret)
    assert again is not None
    assert again.id == view.user.id
    assert again.role is Role.DEPOT_MANAGER
    assert len(again.depot_ids) == 1


async def test_password_is_stored_as_an_argon2id_hash(factory: Factory) -> None:
    view = await factory.user(Role.ADMIN)
    assert view.user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in view.user.password_hash


async def test_wrong_password_and_unknown_user_get_the_same_answer(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.ADMIN)
    with pytest.raises(InvalidInput) as wrong:
        await accounts.login(view.user.username, "not the password", "10.0.0.2")
    with pytest.raises(InvalidInput) as unknown:
        await accounts.login("nobody", "whatever it is", "10.0.0.3")
    assert wrong.value.message == unknown.value.message


async def test_a_username_under_attack_still_logs_in_at_once_from_an_address_without_failures(
    accounts: AccountService, factory: Factory
) -> None:
    view = await factory.user(Role.ADMIN)
    for _ in range(20):
        with pytest.raises((InvalidInput, TooManyAttempts)):
            await accounts.login(view.user.username, "wrong", "198.51.100.7")
    with pytest.raises(TooManyAttempts):
        await accounts.login(view.user.username, PASSWORD, "198.51.100.7")  # the attacker's address waits
    assert await logs_in(accounts, view, "192.0.2.10")


async def test_the_username_delay_doubles_with_each_failure_up_to_a_cap(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.ADMIN)
    now = [dt.datetime.now(dt.UTC)]
    accounts.clock = lambda: now[0]  # moved by hand
    address = "198.51.100.1"  # an address that has failed before, more than a person's typos
    await fail_logins(accounts, [(view.user.username, address)] * USERNAME_FREE_FAILURES)
    waits = []
    for _ in range(12):
        with pytest.raises(TooManyAttempts) as refused:
            await accounts.login(view.user.username, PASSWORD, address)
        waits.append(refused.value.retry_after)
        now[0] += dt.timedelta(seconds=refused.value.retry_after)
        with pytest.raises(InvalidInput):
            await accounts.login(view.user.username, "wrong", address)  # checked after the wait, and wrong
    first, longest = int(FIRST_DELAY.total_seconds()), int(LONGEST_DELAY.total_seconds())
    assert waits == [min(longest, first * 2**n) for n in range(12)]
    assert waits[-1] == longest
    now[0] += LONGEST_DELAY
    assert await logs_in(accounts, view, "198.51.100.0")


async def test_an_address_that_failed_itself_waits_for_the_username_delay(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.ADMIN)
    await fail_logins(accounts, [(view.user.username, "198.51.100.9")] * USERNAME_FREE_FAILURES)
    await fail_logins(accounts, [("someone.else", "192.0.2.20")] * ADDRESS_TYPOS)  # now an address with failures of its own
    with pytest.raises(TooManyAttempts):
        await accounts.login(view.user.username, PASSWORD, "192.0.2.20")
    assert await logs_in(accounts, view, "192.0.2.21")


async def test_the_real_user_who_mistypes_while_their_username_is_under_attack_still_logs_in(
    accounts: AccountService, factory: Factory
) -> None:
    view = await factory.user(Role.ADMIN)
    await fail_logins(accounts, ((view.user.username, f"198.51.100.{n}") for n in range(USERNAME_FREE_FAILURES + 10)))
    await fail_logins(accounts, [(view.user.username, "192.0.2.30")] * (ADDRESS_TYPOS - 1))  # a typo or two of their own
    assert await logs_in(accounts, view, "192.0.2.30")


async def test_failures_from_one_address_throttle_it_for_every_username(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.ADMIN)
    await fail_logins(accounts, ((f"someone{n}", "10.2.0.1") for n in range(ADDRESS_FREE_FAILURES)))
    with pytest.raises(TooManyAttempts) as refused:
        await accounts.login(view.user.username, PASSWORD, "10.2.0.1")
    assert refused.value.retry_after == FIRST_DELAY.total_seconds()
    assert await logs_in(accounts, view, "10.2.0.2")


async def test_ipv6_clients_are_throttled_by_their_64_network(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.ADMIN)
    await fail_logins(accounts, ((f"someone{n}", f"2001:db8:1:2::{n + 1:x}") for n in range(ADDRESS_FREE_FAILURES)))
    with pytest.raises(TooManyAttempts):
        await accounts.login(view.user.username, PASSWORD, "2001:db8:1:2:ffff::1")
    assert await logs_in(accounts, view, "2001:db8:1:3::1")


async def test_parallel_attempts_cannot_all_pass_one_count(accounts: AccountService, factory: Factory, db: Database) -> None:
    view = await factory.user(Role.ADMIN)
    await fail_logins(accounts, [(view.user.username, "198.51.100.30")] * (USERNAME_FREE_FAILURES - 1))
    attempts = [accounts.login(view.user.username, "wrong", "198.51.100.30") for _ in range(6)]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    assert sum(isinstance(outcome, InvalidInput) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, TooManyAttempts) for outcome in outcomes) == 5
    async with db.read() as session:
        counted = await session.scalar(select(func.count()).where(LoginFailure.key == f"user:{view.user.username}"))
    assert counted == USERNAME_FREE_FAILURES


async def test_deactivating_a_user_ends_sessions_and_refuses_login(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.INSPECTOR)
    _actor, secret = await accounts.login(view.user.username, PASSWORD, "10.3.0.1")
    await accounts.update_user(OPERATOR, view.user.id, UserUpdate(active=False))
    assert await accounts.actor_for_session(secret) is None
    with pytest.raises(InvalidInput):
        await accounts.login(view.user.username, PASSWORD, "10.3.0.1")


async def test_logout_ends_the_session(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.WITNESS)
    _actor, secret = await accounts.login(view.user.username, PASSWORD, "10.4.0.1")
    await accounts.logout(secret)
    assert await accounts.actor_for_session(secret) is None


async def test_password_reset_ends_sessions_and_the_new_password_works(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.WITNESS)
    _actor, secret = await accounts.login(view.user.username, PASSWORD, "10.5.0.1")
    await accounts.set_password(OPERATOR, view.user.id, "a brand new password")
    assert await accounts.actor_for_session(secret) is None
    actor, _ = await accounts.login(view.user.username, "a brand new password", "10.5.0.1")
    assert actor.id == view.user.id


async def test_usernames_are_unique(factory: Factory) -> None:
    await factory.user(Role.ADMIN, username="ana")
    with pytest.raises(Conflict, match="ana is taken"):
        await factory.user(Role.WITNESS, username="ana")


async def test_depot_staff_need_a_depot(factory: Factory) -> None:
    with pytest.raises(InvalidInput, match="at least one depot"):
        await factory.user(Role.DEPOT_CLERK, depots=[])


async def test_unknown_depot_codes_are_named(accounts: AccountService) -> None:
    new = NewUser("w1", "Witness One", Role.WITNESS, PASSWORD, depots=["NOPE-1"])
    with pytest.raises(InvalidInput, match="NOPE-1"):
        await accounts.create_user(OPERATOR, new)


async def test_reassigning_depots_replaces_the_set(accounts: AccountService, factory: Factory) -> None:
    first, second, third = await factory.depot(), await factory.depot(), await factory.depot()
    view = await factory.user(Role.DEPOT_CLERK, depots=[first, second])
    updated = await accounts.update_user(OPERATOR, view.user.id, UserUpdate(depots=[second.code, third.code]))
    assert updated.depots == sorted([second.code, third.code])
    actor, _ = await accounts.login(view.user.username, PASSWORD, "10.6.0.1")
    assert actor.depot_ids == {second.id, third.id}


async def test_only_admins_manage_users(accounts: AccountService, factory: Factory) -> None:
    manager = await factory.user(Role.DEPOT_MANAGER)
    actor, _ = await accounts.login(manager.user.username, PASSWORD, "10.7.0.1")
    with pytest.raises(PermissionDenied):
        await accounts.users(actor)
    with pytest.raises(PermissionDenied):
        await accounts.update_user(actor, manager.user.id, UserUpdate(role=Role.ADMIN))


async def test_admin_cannot_lock_themselves_out(accounts: AccountService, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    actor, _ = await accounts.login(admin.user.username, PASSWORD, "10.8.0.1")
    with pytest.raises(Conflict):
        await accounts.update_user(actor, admin.user.id, UserUpdate(active=False))


async def test_api_tokens_are_stored_hashed_and_can_be_revoked(accounts: AccountService, factory: Factory) -> None:
    view = await factory.user(Role.INSPECTOR)
    actor, _ = await accounts.login(view.user.username, PASSWORD, "10.9.0.1")
    token, secret = await accounts.create_token(actor, "scanner")
    assert secret not in token.token_hash
    assert secret.startswith(token.prefix)
    found = await accounts.actor_for_token(secret)
    assert found is not None
    assert found.id == view.user.id
    await accounts.revoke_token(actor, token.id)
    assert await accounts.actor_for_token(secret) is None


async def test_a_token_of_another_user_cannot_be_revoked(accounts: AccountService, factory: Factory) -> None:
    owner, other = await factory.user(Role.INSPECTOR), await factory.user(Role.WITNESS)
    owner_actor, _ = await accounts.login(owner.user.username, PASSWORD, "10.10.0.1")
    other_actor, _ = await accounts.login(other.user.username, PASSWORD, "10.10.0.1")
    token, _secret = await accounts.create_token(owner_actor, "mine")
    with pytest.raises(NotFound):
        await accounts.revoke_token(other_actor, token.id)


async def test_readers_assigned_jurisdictions_read_those_depots_only(accounts: AccountService, factory: Factory) -> None:
    montenegro, serbia = await factory.depot(jurisdiction="ME"), await factory.depot(jurisdiction="RS")
    view = await factory.user(Role.INSPECTOR, jurisdictions=["ME"])
    actor, _ = await accounts.login(view.user.username, PASSWORD, "10.6.0.2")
    assert (actor.jurisdictions, actor.sees_all_depots) == ({"ME"}, False)
    assert actor.can_see_depot(montenegro.id)
    assert not actor.can_see_depot(serbia.id)
    widened = await accounts.update_user(OPERATOR, view.user.id, UserUpdate(jurisdictions=[]))
    assert widened.jurisdictions == []
    actor, _ = await accounts.login(view.user.username, PASSWORD, "10.6.0.2")
    assert actor.sees_all_depots


@pytest.mark.parametrize(
    ("role", "codes", "complaint"),
    [(Role.DEPOT_CLERK, ["RS"], "only inspectors and ministry officials"), (Role.MINISTRY_OFFICIAL, ["ZZ"], "no jurisdiction ZZ")],
)
async def test_jurisdictions_fit_the_role_and_exist(factory: Factory, role: Role, codes: list[str], complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        await factory.user(role, jurisdictions=codes)
