"""Custody events as sentences a person reads: who, what, from where to where, when, in words.

Events keep ids (``depot_id``, ``to_location``, ``printer_id`` …); a timeline shows names. The names of a
whole page of events are resolved together (:func:`names_for`: one statement per kind of record named, never
one per event), and only those the reader may see: a depot outside their scope, and every place or printer in
it, reads "another depot". An entry the reader may not read at all stays a line that says so.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from caliber.accounts.actor import Actor
from caliber.accounts.models import Role
from caliber.accounts.people import full_names
from caliber.db import Database
from caliber.depots.models import Depot, DepotKind, Location
from caliber.depots.places import rows_by_id
from caliber.destruction.models import DestructionEvent
from caliber.items.lifecycle import Action, Status
from caliber.labels.codes import format_code, is_valid
from caliber.labels.models import Printer
from caliber.ledger.schemas import Timeline
from caliber.ledger.scope import subject_id
from caliber.stockchecks.models import StockCheck
from caliber.times import local_time
from caliber.transfers.models import Transfer

__all__ = ["EventLine", "Names", "ReadTimeline", "event_lines", "names_for", "read_timeline", "subject_title"]

E = TypeVar("E", bound=enum.Enum)
CHUNK = 500
ANOTHER_DEPOT = "another depot"
DEPOT_KEYS = ("depot_id", "from_depot_id", "to_depot_id", "site_depot_id")
LOCATION_KEYS = ("location_id", "from_location", "to_location", "parent_id")
DONE = {
    Action.PLACE_HOLD: "Put on evidence hold",
    Action.RELEASE_HOLD: "Released from evidence hold",
    Action.DECLARE_SURPLUS: "Declared surplus",
    Action.APPROVE_DESTRUCTION: "Approved for destruction",
    Action.WITHDRAW_APPROVAL: "Approval for destruction withdrawn",
    Action.RETAIN: "Retained",
    Action.RETURN_TO_OWNER: "Returned to its owner",
    Action.TRANSFER_OUT: "Transferred out of custody",
    Action.DEACTIVATE: "Deactivated",
    Action.VOID: "Voided as a double record",
    Action.REPORT_MISSING: "Reported missing",
    Action.REPORT_FOUND: "Reported found",
}
"""What a lifecycle action did, as a timeline says it (the rest read as their button's label)."""


@dataclass(frozen=True, slots=True)
class EventLine:
    """One entry of a timeline as people read it; ``href`` is the entry's page, with its inclusion proof."""

    index: int
    type: str
    when: str = ""
    who: str = ""
    role: str = ""
    what: str = "An entry about records outside your scope"
    details: list[str] = field(default_factory=list)
    hidden: bool = False

    @property
    def href(self) -> str:
        """The entry's page: the event and its inclusion proof."""
        return f"/ledger/entries/{self.index}"


@dataclass
class Names:
    """The names a page of events mentions, as one reader may see them."""

    actor: Actor
    depots: dict[UUID, Depot] = field(default_factory=dict)
    locations: dict[UUID, Location] = field(default_factory=dict)
    printers: dict[UUID, Printer] = field(default_factory=dict)
    transfers: dict[UUID, Transfer] = field(default_factory=dict)
    stockchecks: dict[UUID, StockCheck] = field(default_factory=dict)
    destructions: dict[UUID, DestructionEvent] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    """Full names by username."""

    def sees(self, depot_id: UUID | str | None) -> bool:
        """Whether the reader may see depot ``depot_id`` (and so the names inside it)."""
        wanted = _uuid(depot_id)
        return wanted is not None and self.actor.can_see_depot(wanted)

    def depot(self, depot_id: UUID | str | None) -> str:
        """A depot by code and name, where the reader may see it."""
        found = self.depots.get(_uuid(depot_id)) if self.sees(depot_id) else None  # type: ignore[arg-type]
        return f"{found.code} {found.name}" if found is not None else ANOTHER_DEPOT

    def place(self, depot_id: UUID | str | None, location_id: UUID | str | None) -> str:
        """A depot and the path of a location in it: ``RS-01 Kragujevac · Building A / Shelf 1``."""
        location = self.locations.get(_uuid(location_id))  # type: ignore[arg-type]
        if location is not None and depot_id is None:
            depot_id = location.depot_id
        if location is None or not self.sees(depot_id) or str(location.depot_id) != str(depot_id):
            return self.depot(depot_id)
        return f"{self.depot(depot_id)} · {location.path}"

    def person(self, username: str) -> str:
        """Someone who acted, by full name (the command line's operator by theirs)."""
        if username.startswith("cli:"):
            return f"{username[4:]} (command line)"
        return self.people.get(username, username)

    def printer(self, printer_id: str | None) -> str | None:
        """A printer's name, where the reader may see its depot."""
        found = self.printers.get(_uuid(printer_id))  # type: ignore[arg-type]
        return found.name if found is not None and self.sees(found.depot_id) else None

    def destruction(self, destruction_id: str | None) -> str:
        """A destruction by its code, and its site where the reader may see one of its depots."""
        found = self.destructions.get(_uuid(destruction_id))  # type: ignore[arg-type]
        if found is None:
            return "a destruction"
        site = f" at {found.site_name}" if self.sees(found.depot_id) or self.sees(found.site_depot_id) else ""
        return f"destruction {format_code(found.code)}{site}"


async def names_for(session: AsyncSession, actor: Actor, events: Sequence[dict[str, Any] | None], subjects: Iterable[str] = ()) -> Names:
    """The names ``events`` (and record keys among ``subjects``) mention: one statement per kind of record."""
    wanted: dict[str, set[UUID]] = {kind: set() for kind in ("depot", "location", "printer", "transfer", "stockcheck", "destruction")}
    usernames: set[str] = set()
    for event in events:
        if event is None:
            continue
        usernames.add(str(event.get("actor", {}).get("name", "")))
        data, kind = event.get("data", {}), str(event.get("type", "")).partition(".")[0]
        wanted["depot"] |= _ids(data.get(key) for key in DEPOT_KEYS)
        wanted["location"] |= _ids(data.get(key) for key in LOCATION_KEYS)
        wanted["printer"] |= _ids([data.get("printer_id")] + ([data.get("id")] if kind == "printer" else []))
        if kind in ("transfer", "stockcheck", "destruction", "depot", "location"):
            wanted[kind] |= _ids([data.get("id")])
    for subject in subjects:
        kind = subject.partition(":")[0]
        if kind in wanted:
            wanted[kind] |= _ids([subject_id(subject)])
    names = Names(actor)
    names.locations = await rows_by_id(session, Location, wanted["location"])
    names.printers = await rows_by_id(session, Printer, wanted["printer"])
    names.transfers = await rows_by_id(session, Transfer, wanted["transfer"])
    names.stockchecks = await rows_by_id(session, StockCheck, wanted["stockcheck"])
    names.destructions = await rows_by_id(session, DestructionEvent, wanted["destruction"])
    held: list[Location | Printer | StockCheck] = [*names.locations.values(), *names.printers.values(), *names.stockchecks.values()]
    depots = wanted["depot"] | {r.depot_id for r in held}
    depots |= {d for t in names.transfers.values() for d in (t.from_depot_id, t.to_depot_id)}
    names.depots = await rows_by_id(session, Depot, depots)
    names.people = await full_names(session, usernames)
    return names


def event_lines(entries: Sequence[tuple[int, dict[str, Any] | None]], names: Names, zone: dt.tzinfo, subject: str = "") -> list[EventLine]:
    """Each ``(index, event)`` as a line (``None``: an entry the reader may not read); ``subject`` is the record
    whose custody chain this is, in order, so a transfer can say where the record left from."""
    here: tuple[Any, Any] = (None, None)
    lines = []
    for index, event in entries:
        if event is None:
            lines.append(EventLine(index, "", hidden=True))
            continue
        story = _Story(event, names, subject, here)
        what = story.tell()
        here = story.here
        actor = event.get("actor", {})
        role = str(actor.get("role", ""))
        lines.append(
            EventLine(
                index,
                str(event.get("type", "")),
                local_time(str(event["time"]), zone),
                names.person(str(actor.get("name", ""))),
                member.label if (member := _member(Role, role)) else role,
                what,
                story.details,
            )
        )
    return lines


def subject_title(subject: str, names: Names) -> str:
    """A timeline's record as people name it: a label code grouped, a depot or place by name."""
    if is_valid(subject):
        return format_code(subject)
    kind = subject.partition(":")[0]
    key = subject_id(subject)
    if kind == "depot":
        return f"Depot {names.depot(key)}"
    if kind == "location" and key in names.locations:
        return f"Location {names.place(None, key)}"
    if kind == "transfer" and (transfer := names.transfers.get(key)) is not None:  # type: ignore[arg-type]
        return f"Transfer from {names.depot(transfer.from_depot_id)} to {names.depot(transfer.to_depot_id)}"
    if kind == "stockcheck" and (check := names.stockchecks.get(key)) is not None:  # type: ignore[arg-type]
        return f"Stock check of {names.place(check.depot_id, check.location_id)}"
    if kind == "printer" and (name := names.printer(str(key))) is not None:
        return f"Label printer {name}"
    return {"user": "User account", "target": "Target", "layout": "Label layout", "witness": "Witness"}.get(kind, subject)


class _Story:
    """What one event says, for the record ``subject`` standing at ``here`` (depot id, location id) before it."""

    def __init__(self, event: dict[str, Any], names: Names, subject: str, here: tuple[Any, Any]) -> None:
        self.type = str(event.get("type", ""))
        self.data: dict[str, Any] = event.get("data", {})
        self.names = names
        self.subject = subject
        self.here = here
        self.details: list[str] = []

    def tell(self) -> str:
        teller = getattr(self, "_" + self.type.replace(".", "_"), None)
        kind, _, verb = self.type.partition(".")
        if teller is None and kind in ("item", "lot"):
            teller = getattr(self, f"_record_{verb}", None)
        return str(teller()) if teller is not None else self._generic()

    def note(self, label: str, value: Any) -> None:
        if value not in (None, "", [], False):
            self.details.append(f"{label}: {', '.join(map(str, value)) if isinstance(value, list) else value}")

    def code(self, key: str = "code") -> str:
        value = str(self.data.get(key) or "")
        return format_code(value) if is_valid(value) else value

    def changes(self) -> None:
        for name, change in (self.data.get("changes") or {}).items():
            self.details.append(f"{name.replace('_', ' ')}: {_shown(change.get('old'))} → {_shown(change.get('new'))}")

    # -- weapons, components and lots ------------------------------------------------

    def _item_registered(self) -> str:
        d = self.data
        self.here = (d.get("depot_id"), d.get("location_id"))
        what = (d.get("component_type") or d.get("un_type") or d.get("kind") or "record").replace("_", " ")
        self.note("serial", d.get("serial"))
        self.note("intake", _label(d.get("intake_source")))
        self.note("case reference", d.get("case_reference"))
        self.note("court order", d.get("court_order"))
        made = " ".join(str(d[k]) for k in ("manufacturer", "model", "calibre") if d.get(k))
        return f"Taken into custody at {self.names.place(*self.here)}: {what} {made}".rstrip()

    def _lot_registered(self) -> str:
        d = self.data
        self.here = (d.get("depot_id"), d.get("location_id"))
        self.note("gross mass", f"{d['gross_mass_kg']} kg" if d.get("gross_mass_kg") else None)
        self.note("intake", _label(d.get("intake_source")))
        self.note("case reference", d.get("case_reference"))
        pieces = f"{d.get('quantity')} × {d.get('calibre', '')} {d.get('nature', '')}".strip()
        return f"Taken into custody at {self.names.place(*self.here)}: ammunition lot {d.get('lot_number', '')}, {pieces}"

    def _record_moved(self) -> str:
        depot = self.data.get("depot_id")
        before = self.names.place(depot, self.data.get("from_location")) if self.data.get("from_location") else "no shelf"
        self.here = (depot, self.data.get("to_location"))
        return f"Moved from {before} to {self.names.place(*self.here)}"

    def _record_status_changed(self) -> str:
        action = self.data.get("action", "")
        self.note("reason", self.data.get("reason"))
        self.note("court order", self.data.get("court_order"))
        done = DONE.get(found, found.label) if (found := _member(Action, action)) else _label(action)
        return f"{done} ({_label(self.data.get('from'))} → {_label(self.data.get('to'))})"

    def _record_corrected(self) -> str:
        self.note("reason", self.data.get("reason"))
        field_name = str(self.data.get("field", "")).replace("_", " ")
        return f"Corrected {field_name}: {_shown(self.data.get('old'))} → {_shown(self.data.get('new'))}"

    def _item_duplicate_reviewed(self) -> str:
        self.note("reason", self.data.get("reason"))
        return f"Reviewed as a possible duplicate: {_label(self.data.get('decision'))}"

    def _record_photo_added(self) -> str:
        self.note("SHA-256", self.data.get("sha256"))
        return "Photographed"

    def _lot_split(self) -> str:
        d = self.data
        self.note("reason", d.get("reason"))
        if self.subject == d.get("new_code"):
            self.here = (self.here[0], d.get("location_id") or self.here[1])
            return f"Split off lot {self.code()}: {d.get('quantity')} pieces, into {self.names.place(None, d.get('location_id'))}"
        return f"{d.get('quantity')} pieces split off as lot {self.code('new_code')}"

    # -- transfers and stock checks ----------------------------------------------------

    def _transfer_dispatched(self) -> str:
        d = self.data
        start = (
            self.names.place(d.get("from_depot_id"), self.here[1])
            if self.subject in self._listed()
            else self.names.depot(d.get("from_depot_id"))
        )
        self.note("seals", d.get("seals"))
        self.note("notes", d.get("notes"))
        self.note("records", len(self._listed()) or None)
        self.here = (d.get("from_depot_id"), self.here[1])
        return f"Dispatched from {start} to {self.names.depot(d.get('to_depot_id'))}"

    def _listed(self) -> list[str]:
        return [*self.data.get("items", []), *self.data.get("lots", [])]

    def _transfer_received(self) -> str:
        d = self.data
        transfer = self.names.transfers.get(_uuid(d.get("id")))  # type: ignore[arg-type]
        origin = transfer.from_depot_id if transfer else None
        destination = transfer.to_depot_id if transfer else None
        arrived = self.names.place(destination, d.get("location_id"))
        if self.subject in d.get("received", []):
            before = self.names.place(*self.here) if self.here[0] is not None else self.names.depot(origin)
            self.here = (destination, d.get("location_id"))
            return f"Received from {before} to {arrived}"
        if self.subject in d.get("missing", []):
            return f"Missing on arrival at {self.names.depot(destination)}"
        if self.subject in d.get("extra", []):
            self.here = (destination, d.get("location_id"))
            return f"Arrived at {arrived} without being on the transfer's list"
        got, missing, extra = (len(d.get(k, [])) for k in ("received", "missing", "extra"))
        return f"Received at {arrived}: {got} received, {missing} missing, {extra} not on the list"

    def _stockcheck_opened(self) -> str:
        self.note("records to count", len(self.data.get("items", [])) + len(self.data.get("lots", [])))
        return f"Opened a stock check of {self.names.place(self.data.get('depot_id'), self.data.get('location_id'))}"

    def _stockcheck_scanned(self) -> str:
        check = self.names.stockchecks.get(_uuid(self.data.get("id")))  # type: ignore[arg-type]
        where = self.names.place(check.depot_id if check else None, self.data.get("location_id"))
        self.note("pieces counted", self.data.get("quantity"))
        return f"Scanned {self.code()} at {where}"

    def _stockcheck_counted(self) -> str:
        return "Finished counting the stock check"

    def _stockcheck_closed(self) -> str:
        d = self.data
        check = self.names.stockchecks.get(_uuid(d.get("id")))  # type: ignore[arg-type]
        where = self.names.place(check.depot_id, check.location_id) if check else ANOTHER_DEPOT
        if self.subject in d.get("missing", []):
            return f"Reported missing by the stock check of {where}"
        missing, wrong, unknown = (len(d.get(k, [])) for k in ("missing", "wrong_location", "unknown"))
        counts = f"{d.get('found', 0)} found, {missing} missing, {wrong} on the wrong shelf, {unknown} unknown"
        return f"Closed the stock check of {where}: {counts}"

    # -- destruction -------------------------------------------------------------------

    def _destruction(self) -> str:
        return self.names.destruction(self.data.get("id"))

    def _destruction_planned(self) -> str:
        d = self.data
        self.note("legal authority", f"{d.get('authority_number', '')} of {d.get('authority_date', '')}")
        self.note("methods", [_label(m) for m in d.get("methods", [])])
        return f"Planned {self._destruction()} for {d.get('planned_date', '')}"

    def _destruction_manifest_changed(self) -> str:
        d = self.data
        self.note("reason", d.get("reason"))
        amended = " (an amendment: the manifest needs approval again)" if d.get("amendment") else ""
        if self.subject in self._listed():
            return f"Added to the manifest of {self._destruction()}{amended}"
        if self.subject in d.get("removed", []):
            return f"Removed from the manifest of {self._destruction()}{amended}"
        return f"Manifest of {self._destruction()} changed: {len(self._listed())} added, {len(d.get('removed', []))} removed{amended}"

    def _destruction_approved(self) -> str:
        self.note("manifest SHA-256", self.data.get("manifest_sha256"))
        return f"Manifest of {self._destruction()} approved ({self.data.get('records', 0)} records)"

    def _destruction_verified(self) -> str:
        self.note("serial read", self.data.get("serial_read"))
        return f"Checked at the site of {self._destruction()}"

    def _destruction_unexpected(self) -> str:
        return f"{self.code()} scanned at the site of {self._destruction()}, not on its manifest"

    def _destruction_withdrawn(self) -> str:
        self.note("reason", self.data.get("reason"))
        return f"Withdrawn from {self._destruction()}" + (" and reported missing" if self.data.get("missing") else "")

    def _destruction_attested(self) -> str:
        self.note("statement", self.data.get("statement"))
        self.note("manifest SHA-256", self.data.get("manifest_sha256"))
        return f"{self.data.get('name', '')} attested {self.data.get('stage', '')} {self._destruction()}"

    def _destruction_photo_added(self) -> str:
        self.note("SHA-256", self.data.get("sha256"))
        return f"Photo {self.data.get('stage', '')} {self._destruction()} added"

    def _destruction_returned(self) -> str:
        self.note("reason", self.data.get("reason"))
        return f"Not destroyed: back to storage from {self._destruction()}"

    def _destruction_destroyed(self) -> str:
        return f"Destroyed in {self._destruction()} by {', '.join(_label(m).lower() for m in self.data.get('methods', []))}"

    def _destruction_completed(self) -> str:
        d = self.data
        self.note("methods", [_label(m) for m in d.get("methods_used", [])])
        which = self._destruction()
        return f"{which[0].upper()}{which[1:]} completed: {d.get('destroyed', 0)} destroyed, {d.get('returned', 0)} returned"

    def _destruction_residue_checked(self) -> str:
        self.note("notes", self.data.get("notes"))
        return f"Residue of {self._destruction()} checked"

    def _destruction_certified(self) -> str:
        self.note("certificate SHA-256", self.data.get("certificate_sha256"))
        return f"Certified destroyed in {self._destruction()}"

    # -- tracing -----------------------------------------------------------------------

    def _trace_step_recorded(self) -> str:
        d = self.data
        self.note("reference", d.get("reference"))
        self.note("finding", d.get("finding"))
        self.note("origin", d.get("origin_country"))
        return f"Tracing: {_label(d.get('step')).lower()}"

    def _trace_excepted(self) -> str:
        self.note("explanation", self.data.get("explanation"))
        return f"Tracing waived: {_label(self.data.get('reason')).lower()}"

    def _trace_request_sent(self) -> str:
        d = self.data
        self.note("case reference", d.get("case_reference"))
        self.note("due", d.get("due"))
        recipient, addressee = _label(d.get("recipient")).lower(), str(d.get("addressee") or "")
        if addressee and recipient not in addressee.lower():
            self.note("to the", recipient)
        return f"Trace request sent to {addressee or 'the ' + recipient}"

    def _trace_request_answered(self) -> str:
        self.note("answer", self.data.get("answer"))
        return f"Answer to the trace request received on {self.data.get('received_on')}"

    def _trace_incoming_registered(self) -> str:
        d = self.data
        self.note("their reference", d.get("their_reference"))
        self.note("due", d.get("due"))
        return f"Trace request from {d.get('requesting_state')} registered at {self.names.depot(d.get('depot_id'))}"

    def _trace_incoming_answered(self) -> str:
        self.note("answer", self.data.get("answer"))
        found = len(self.data.get("codes") or [])
        return f"Trace request from another state answered ({found} record{'s' * (found != 1)} found)"

    def _trace_iarms_hit(self) -> str:
        d = self.data.get("hit") or {}
        self.note("iARMS reference", d.get("reference"))
        self.note("queried on", d.get("queried_on"))
        return f"iARMS hit: reported {d.get('reported_as')} by {d.get('reporting_country')} on {d.get('reported_on')}"

    # -- labels and printers -----------------------------------------------------------

    def _label_printed(self) -> str:
        d = self.data
        self.note("reason", d.get("reason"))
        count = len(d.get("codes", []))
        labels = "a label" if count == 1 else f"{count} labels"
        if (printer := self.names.printer(d.get("printer_id"))) is not None:
            return f"Printed {labels} on {printer}"
        kind = str(d.get("output", "")).partition(":")[0]
        return f"Printed {labels} " + ("as a PDF sheet" if kind == "pdf" else "on a label printer")

    def _label_calibrated(self) -> str:
        return f"Label layout {self.data.get('layout', '')} calibrated: {self.data.get('dx_mm')} mm right, {self.data.get('dy_mm')} mm down"

    def _printer_registered(self) -> str:
        self.note("model", self.data.get("model"))
        return f"Label printer {self.data.get('name', '')} registered for {self.names.depot(self.data.get('depot_id'))}"

    def _printer_changed(self) -> str:
        self.changes()
        name = self.names.printer(self.data.get("id")) or "a label printer"
        return f"Label printer {name} of {self.names.depot(self.data.get('depot_id'))} changed"

    # -- depots, locations, people -----------------------------------------------------

    def _depot_registered(self) -> str:
        d = self.data
        kind = found.label if (found := _member(DepotKind, d.get("kind"))) else _label(d.get("kind"))
        self.note("address", d.get("address"))
        return f"Depot {d.get('code', '')} {d.get('name', '')} registered ({kind}, {d.get('jurisdiction', '')})"

    def _depot_changed(self) -> str:
        self.changes()
        return f"Depot {self.names.depot(self.data.get('id'))} changed"

    def _location_created(self) -> str:
        d = self.data
        where = f"{self.names.depot(d.get('depot_id'))} · {d.get('path', '')}" if self.names.sees(d.get("depot_id")) else ANOTHER_DEPOT
        return f"{_label(d.get('kind'))} {where} created"

    def _location_renamed(self) -> str:
        d = self.data
        if not self.names.sees(d.get("depot_id")):
            return f"A location of {ANOTHER_DEPOT} renamed"
        return f"Location {self.names.depot(d.get('depot_id'))} · {d.get('old_path', '')} renamed to {d.get('new_path', '')}"

    def _location_changed(self) -> str:
        self.changes()
        return f"Location {self.names.place(None, self.data.get('id'))} changed"

    def _user_created(self) -> str:
        role = str(self.data.get("role", ""))
        return f"User {self.data.get('display_name', '')} created ({found.label if (found := _member(Role, role)) else role})"

    def _user_changed(self) -> str:
        self.changes()
        return "User account changed"

    def _user_password_set(self) -> str:
        return "Password set"

    def _report_target_set(self) -> str:
        d = self.data
        self.note("reason", d.get("reason"))
        state = "withdrawn" if d.get("withdrawn") else f"set to {d.get('amount')}"
        return f"Target for KPI {d.get('kpi', '')}, {d.get('jurisdiction', '')} {d.get('year', '')} {state}"

    def _witness_registered(self) -> str:
        return f"Witness {self.data.get('name', '')} registered"

    def _generic(self) -> str:
        """An event this module has no words for: its type and its fields, ids named where known."""
        for key, value in self.data.items():
            if key in DEPOT_KEYS:
                shown: Any = self.names.depot(value)
            elif key in LOCATION_KEYS:
                shown = self.names.place(None, value)
            elif key == "id" or _uuid(value) is not None:
                continue
            else:
                shown = value if isinstance(value, list) else _shown(value)
            self.note(key.replace("_", " "), shown)
        return self.type.replace(".", " ").replace("_", " ").capitalize()


def _uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _ids(values: Iterable[Any]) -> set[UUID]:
    return {found for value in values if (found := _uuid(value)) is not None}


def _label(value: Any) -> str:
    """An enumeration's value as people write it (``awaiting_decision``: Awaiting decision)."""
    if found := _member(Status, value):
        return found.label
    return str(value or "").replace("_", " ").capitalize()


def _member(kind: type[E], value: Any) -> E | None:
    """The member of enumeration ``kind`` whose value is ``value`` (None: no such member)."""
    try:
        return kind(value)
    except ValueError:
        return None


def _shown(value: Any) -> str:
    return "(blank)" if value in (None, "") else str(value)


@dataclass(frozen=True, slots=True)
class ReadTimeline:
    """A timeline as its reader reads it: the record's name and a line per entry, in the timeline's order."""

    title: str
    lines: list[EventLine]


async def read_timeline(db: Database, actor: Actor, timeline: Timeline, zone: dt.tzinfo) -> ReadTimeline:
    """``timeline`` (whose subject ``actor`` reads) in words, its names resolved in one read transaction."""
    events = [entry.event for entry in timeline.entries]
    async with db.read() as session:
        names = await names_for(session, actor, events, [timeline.subject])
    entries = [(entry.index, entry.event) for entry in timeline.entries]
    return ReadTimeline(subject_title(timeline.subject, names), event_lines(entries, names, zone, timeline.subject))
