"""The register of thermal label printers: the only addresses the server sends print jobs to.

An admin registers each printer for a depot; a print job names a registered,
active printer of a depot the actor is assigned to, never an address.

Events and what they carry in ``data``:

- ``printer.registered``: id, depot_id, name, host, port, model, dpi, size
- ``printer.changed``: id, depot_id, changes {field: {old, new}} for name, host, port, model, dpi, size, active
"""

from __future__ import annotations

import ipaddress
import re
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.db import new_id
from caliber.depots.service import DepotService, depot_subject
from caliber.errors import Conflict, InvalidInput, NotFound
from caliber.items.access import DEPOT_STAFF
from caliber.labels.events import PrinterChanged, PrinterRegistered
from caliber.labels.models import Printer
from caliber.labels.render import LabelError
from caliber.labels.schemas import NewPrinter, PrinterUpdate
from caliber.labels.zpl import SIZES, ZplLabel, send_to_printer
from caliber.ledger.events import Recorded
from caliber.ledger.registry import Appliers
from caliber.ledger.store import Ledger, apply_changes, changes_of

__all__ = ["PrinterRegister", "address_of", "appliers", "deliver", "printer_host", "printer_subject", "stock_of"]

appliers = Appliers("printers", tables=["label_printer"])
"""The events of registered label printers, and what applies them."""

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
"""One label of a host name (RFC 1123 §2.1): letters, digits and hyphens, not at either end."""
_HOST_RULE = "an IP address or a host name (letters, digits and hyphens between dots, at most 253 characters)"


def printer_subject(printer_id: UUID) -> str:
    """The ledger subject of a printer."""
    return f"printer:{printer_id}"


def printer_host(host: str) -> str:
    """``host`` as it is registered: an IP address written the standard way, or a host name in lower case.

    Raises :class:`InvalidInput` for anything no resolver takes (empty, too long, NUL, ``..``, all digits).
    """
    text = host.strip().lower().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.removesuffix(".")
    labels = name.split(".")
    if len(name) <= 253 and all(_HOST_LABEL.match(label) for label in labels) and not labels[-1].isdigit():
        return name
    raise InvalidInput(f"host: {_HOST_RULE}", field="host")


def _port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise InvalidInput("port: a TCP port from 1 to 65535 (Zebra printers take raw jobs on 9100)", field="port")
    return port


def address_of(printer: Printer) -> str:
    """Where the printer is registered, ``host:port`` (``[v6]:port``)."""
    host = f"[{printer.host}]" if ":" in printer.host else printer.host
    return f"{host}:{printer.port}"


def stock_of(printer: Printer) -> ZplLabel:
    """The label stock and resolution the printer is registered with."""
    return _stock(printer.size, printer.dpi)


def _stock(size: str, dpi: int) -> ZplLabel:
    try:
        return ZplLabel(size, dpi)
    except LabelError as exc:
        raise InvalidInput(str(exc), field="size" if size not in SIZES else "dpi") from None


async def deliver(printer: Printer, job: str, seconds: float = 10.0) -> None:
    """Send a ZPL job to a registered printer; a failure names only the printer, never an address."""
    try:
        await send_to_printer(printer.host, job, printer.port, seconds)
    except LabelError as exc:
        message = f"printer {printer.name} at its registered address did not take the job: {exc}"
        raise InvalidInput(message, field="printer_id") from None


class PrinterRegister:
    """Registered printers: admins register and change them; depot staff print to their depots' printers."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.db = ledger.db

    async def printers(self, actor: Actor, *, active_only: bool = False) -> list[Printer]:
        """The printers of the depots ``actor`` works in (admins: every depot), by depot then name."""
        actor.require_role(*DEPOT_STAFF)
        query = select(Printer).order_by(Printer.depot_id, Printer.name)
        if not actor.sees_all_depots:
            query = query.where(Printer.depot_id.in_(actor.depot_ids))
        if active_only:
            query = query.where(Printer.active.is_(True))
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def choices(self, actor: Actor) -> list[tuple[Printer, str]]:
        """The active printers ``actor`` may print to, each with its depot's code (for the print form)."""
        printers = await self.printers(actor, active_only=True)
        async with self.db.read() as session:
            codes = await DepotService.depot_codes(session, {printer.depot_id for printer in printers})
        return [(printer, codes[printer.depot_id]) for printer in printers]

    async def printer(self, actor: Actor, printer_id: UUID) -> Printer:
        """One printer of a depot ``actor`` works in."""
        actor.require_role(*DEPOT_STAFF)
        async with self.db.read() as session:
            return await _printer_in_scope(session, actor, printer_id)

    async def usable(self, actor: Actor, printer_id: UUID) -> Printer:
        """The printer a print job names, if registered, active and in ``actor``'s depots; else nothing is sent."""
        try:
            printer = await self.printer(actor, printer_id)
        except NotFound:
            raise InvalidInput(f"no registered printer {printer_id}: choose one of your depot's printers", field="printer_id") from None
        if not printer.active:
            raise InvalidInput(f"printer {printer.name} is out of service: choose another", field="printer_id")
        return printer

    async def register(self, actor: Actor, new: NewPrinter) -> Printer:
        """Register a printer for a depot (admins only): a ``printer.registered`` event."""
        actor.require_role(Role.ADMIN)
        name, host, port = new.name.strip(), printer_host(new.host), _port(new.port)
        _stock(new.size, new.dpi)
        async with self.ledger.write(actor) as tx:
            if not await DepotService.depot_codes(tx.session, [new.depot_id]):
                raise InvalidInput(f"no depot with id {new.depot_id}", field="depot_id")
            await _require_free_name(tx.session, new.depot_id, name)
            printer_id = new_id()
            event = PrinterRegistered(
                id=printer_id,
                depot_id=new.depot_id,
                name=name,
                host=host,
                port=port,
                model=new.model.strip(),
                dpi=new.dpi,
                size=new.size,
            )
            await tx.record(event, _subjects(printer_id, new.depot_id))
            return await _get(tx.session, printer_id)

    async def change(self, actor: Actor, printer_id: UUID, changes: PrinterUpdate) -> Printer:
        """Change a printer's name, address, model, stock or whether it is in service (admins only): ``printer.changed``."""
        actor.require_role(Role.ADMIN)
        wanted = {
            "name": changes.name.strip() if changes.name is not None else None,
            "host": printer_host(changes.host) if changes.host is not None else None,
            "port": _port(changes.port) if changes.port is not None else None,
            "model": changes.model.strip() if changes.model is not None else None,
            "dpi": changes.dpi,
            "size": changes.size,
            "active": changes.active,
        }
        async with self.ledger.write(actor) as tx:
            printer = await _get(tx.session, printer_id)
            _stock(changes.size or printer.size, changes.dpi or printer.dpi)
            if changes.name is not None and changes.name.strip() != printer.name:
                await _require_free_name(tx.session, printer.depot_id, changes.name.strip())
            if diff := changes_of(printer, wanted):
                changed = PrinterChanged(id=printer.id, depot_id=printer.depot_id, changes=diff)
                await tx.record(changed, _subjects(printer.id, printer.depot_id))
            return printer


def _subjects(printer_id: UUID, depot_id: UUID) -> list[str]:
    return [printer_subject(printer_id), depot_subject(depot_id)]


async def _get(session: AsyncSession, printer_id: UUID) -> Printer:
    printer = await session.get(Printer, printer_id)
    if printer is None:
        raise NotFound(f"no printer with id {printer_id}")
    return printer


async def _printer_in_scope(session: AsyncSession, actor: Actor, printer_id: UUID) -> Printer:
    printer = await _get(session, printer_id)
    if not actor.can_see_depot(printer.depot_id):
        codes = await DepotService.depot_codes(session, [printer.depot_id])
        actor.require_depot(printer.depot_id, codes.get(printer.depot_id, str(printer.depot_id)))
    return printer


async def _require_free_name(session: AsyncSession, depot_id: UUID, name: str) -> None:
    taken = await session.scalar(select(Printer.id).where(Printer.depot_id == depot_id, Printer.name == name))
    if taken is not None:
        raise Conflict(f"the depot already has a printer named {name!r}")


# -- appliers: the one place each event changes the printer table (live and on replay) --


@appliers.on(PrinterRegistered)
async def _registered(session: AsyncSession, event: Recorded[PrinterRegistered]) -> None:
    data = event.data
    session.add(
        Printer(
            id=data.id,
            depot_id=data.depot_id,
            name=data.name,
            host=data.host,
            port=data.port,
            model=data.model,
            dpi=data.dpi,
            size=data.size,
            active=True,
        )
    )
    await session.flush()


@appliers.on(PrinterChanged)
async def _changed(session: AsyncSession, event: Recorded[PrinterChanged]) -> None:
    apply_changes(await _get(session, event.data.id), event.data.changes)
    await session.flush()
