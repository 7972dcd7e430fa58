"""The main menu: the one list of the pages a person may open from the top of every page.

Every page draws its menu from :func:`main_menu`, so no page can show an actor fewer (or other) entries
than the rest: the entries depend on the actor alone, never on what a page puts in its context.
"""

from __future__ import annotations

from dataclasses import dataclass

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role

__all__ = ["MenuEntry", "main_menu"]


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One link of the main menu: its address, its words, and the paths on which it is the current page."""

    href: str
    label: str

    def is_current(self, path: str) -> bool:
        """Whether the page at ``path`` is this entry's or one below it (``/print/`` is not current on ``/printers/``)."""
        if self.href == "/" or not self.href.endswith("/"):
            return path == self.href
        return path == self.href.rstrip("/") or path.startswith(self.href)


def main_menu(actor: Actor | None) -> list[MenuEntry]:
    """The menu ``actor`` sees on every page, in order (nothing for a visitor who has not logged in)."""
    if actor is None:
        return []
    admin = actor.role == Role.ADMIN
    entries = [
        MenuEntry("/", "Home"),
        MenuEntry("/items/", "Weapons"),
        MenuEntry("/lots/", "Ammunition"),
        MenuEntry("/scan/", "Scan"),
    ]
    if actor.role.is_depot_staff or admin:
        entries.append(MenuEntry("/print/", "Print labels"))
    entries += [
        MenuEntry("/transfers/", "Transfers"),
        MenuEntry("/stockchecks/", "Stock checks"),
    ]
    if actor.role is not Role.WITNESS:
        entries.append(MenuEntry("/tracing/", "Tracing"))
    entries += [
        MenuEntry("/destructions/", "Destruction"),
        MenuEntry("/reports/", "Roadmap"),
        MenuEntry("/ledger/", "Ledger"),
        MenuEntry("/depots/", "Depots"),
    ]
    if admin:
        entries += [MenuEntry("/users/", "Users"), MenuEntry("/printers/", "Printers")]
    entries.append(MenuEntry("/schema/swagger", "API"))
    return entries
