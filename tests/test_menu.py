"""The main menu: the same entries for a person on every page they can open."""

from __future__ import annotations

import re

import httpx

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.menu import MenuEntry, main_menu
from tests.factories import Factory, login


def _menu(page: str) -> list[str]:
    """The main menu's links on ``page``, as ``href label`` in order."""
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return [f"{href} {label}" for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)]


async def test_the_admins_menu_is_the_same_on_every_page_including_the_user_pages(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.user(Role.ADMIN)
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[await factory.depot()])
    await login(client, admin.user.username)
    pages = ["/", "/items/", "/destructions/", "/reports/", "/depots/", "/print/", "/account/"]
    pages += ["/users/", "/users/new", f"/users/{clerk.user.id}", f"/users/{admin.user.id}"]
    menus = {}
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        menus[path] = _menu(response.text)
    assert "/users/ Users" in menus["/"]
    assert "/print/ Print labels" in menus["/"]
    assert {path: menu for path, menu in menus.items() if menu != menus["/"]} == {}


async def test_a_clerks_menu_has_print_labels_but_not_users(client: httpx.AsyncClient, factory: Factory) -> None:
    clerk = await factory.user(Role.DEPOT_CLERK, depots=[await factory.depot()])
    await login(client, clerk.user.username)
    menu = _menu((await client.get("/account/")).text)
    assert "/print/ Print labels" in menu
    assert not [entry for entry in menu if entry.startswith(("/users/", "/printers/"))]


def test_an_entry_is_current_on_its_pages_only() -> None:
    prints = MenuEntry("/print/", "Print labels")
    assert prints.is_current("/print/")
    assert prints.is_current("/print")
    assert prints.is_current("/print/sheet")
    assert not prints.is_current("/printers/")
    home = MenuEntry("/", "Home")
    assert home.is_current("/")
    assert not home.is_current("/items/")


def test_a_visitor_has_no_menu() -> None:
    assert main_menu(None) == []
    witness = Actor(id=None, username="w", display_name="W", role=Role.WITNESS)
    assert "Print labels" not in [entry.label for entry in main_menu(witness)]
