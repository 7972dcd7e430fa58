"""``caliber user``: people and their roles, from the command line."""

from __future__ import annotations

import getpass
import sys

import click

from caliber.cli.base import ROLES, fail, ledger_of, main, prepare_database, prepared, refuse_forked_log, run_with_database
from caliber.config import load_or_exit


@main.group()
def user() -> None:
    """Users: create and list."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.option("--depot", "depots", multiple=True, metavar="CODE", help="A depot the user works in (repeat for several).")
@click.option(
    "--jurisdiction",
    "jurisdictions",
    multiple=True,
    metavar="CODE",
    help="Inspectors and ministry officials: a jurisdiction they read (RS, AL, ...).",
)
@click.option("--name", "display_name", default=None, help="Full name (default: the username).")
@click.option("--organisation", default="", help="Ministry, police directorate, organisation.")
def user_create(  # noqa: PLR0917 (one parameter per option)
    username: str, role: str, depots: tuple[str, ...], jurisdictions: tuple[str, ...], display_name: str | None, organisation: str
) -> None:
    """Create a user. The password is asked for, or read from standard input when it is not a terminal."""
    from caliber.accounts.actor import Actor
    from caliber.accounts.schemas import NewUser
    from caliber.accounts.service import AccountService
    from caliber.errors import CaliberError
    from caliber.schemas import convert

    settings = prepared()
    values = {
        "username": username,
        "role": role,
        "depots": list(depots),
        "jurisdictions": [code.upper() for code in jurisdictions],
        "display_name": display_name or username,
        "organisation": organisation,
        "password": _read_password(),
    }
    try:
        new = convert(values, NewUser)
    except CaliberError as exc:
        fail(exc.message)
    refuse_forked_log(settings, "refusing to create the user")
    operator = Actor.operator(getpass.getuser())
    view = run_with_database(settings, lambda db: AccountService(ledger_of(db, settings)).create_user(operator, new))
    scope = view.depots + view.jurisdictions
    click.echo(f"created {view.user.username} ({view.user.role}){' in ' + ', '.join(scope) if scope else ''}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password given: type one at the prompt or send it on standard input")
    return str(password)


@user.command("list")
def user_list() -> None:
    """List users with role, depots and status."""
    from rich.console import Console
    from rich.table import Table

    from caliber.accounts.actor import Actor
    from caliber.accounts.service import AccountService

    settings = load_or_exit()
    prepare_database(settings)
    operator = Actor.operator(getpass.getuser())
    views = run_with_database(settings, lambda db: AccountService(ledger_of(db, settings)).users(operator))
    table = Table("username", "name", "role", "depots", "active")
    for view in views:
        u = view.user
        table.add_row(u.username, u.display_name, u.role, ", ".join(view.depots), "yes" if u.active else "no")
    Console().print(table)
