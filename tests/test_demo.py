"""The demo: every demo user logs in and sees only what the role allows."""

from __future__ import annotations

from pathlib import Path

import httpx

from caliber import demo
from caliber.db import Database
from caliber.ledger.store import Ledger
from tests.conftest import TEST_ORIGIN
from tests.factories import login


async def test_each_demo_user_logs_in_and_sees_their_scope(db: Database, client: httpx.AsyncClient, tmp_path: Path) -> None:
    logins = await demo.ensure_demo(Ledger(db, TEST_ORIGIN), tmp_path)
    assert {role for _, role, _ in logins} == {"admin", "depot_clerk", "depot_manager", "witness", "inspector", "ministry_official"}
    all_codes = {depot.code for depot in demo.DEMO_DEPOTS}
    assigned = {username: set(codes) for username, _, _, _, codes in demo.DEMO_USERS}
    for username, role, password in logins:
        client.cookies.clear()
        response = await login(client, username, password)
        assert response.status_code == 302, (username, response.text)
        seen = {d["code"] for d in (await client.get("/api/depots")).json()}
        assert seen == (assigned[username] if role in {"depot_clerk", "depot_manager"} else all_codes), username
        users_page = await client.get("/users/")
        assert users_page.status_code == (200 if role == "admin" else 403), username


async def test_demo_data_is_created_once(db: Database, tmp_path: Path) -> None:
    first = await demo.ensure_demo(Ledger(db, TEST_ORIGIN), tmp_path)
    assert await demo.ensure_demo(Ledger(db, TEST_ORIGIN), tmp_path) == first
