"""``caliber tracing iarms-hits``: the hits of an export's weapons read back, a bad file refused whole, then once each."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.test_cli import caliber
from tests.tracing.hits_csv import hit, hits_csv


def test_the_command_links_the_hits_of_exported_weapons_once(tmp_path: Path) -> None:
    env = {"CALIBER_DATA_DIR": str(tmp_path / "data")}
    assert caliber("demo", "--no-serve", env=env).returncode == 0
    exported = tmp_path / "iarms.csv"
    assert caliber("items", "iarms-export", str(exported), env=env).returncode == 0
    with exported.open(encoding="utf-8", newline="") as file:
        first, second = [r for r in csv.DictReader(file) if len(r["serial_number"]) > 4][:2]
    dashed = f"{first['serial_number'][:2]}-{first['serial_number'][2:].lower()}"
    rows = [
        hit("IA-1", dashed, make=first["make"].upper()),
        hit("IA-2", second["serial_number"], make=second["make"], record_reference=second["record_reference"]),
        hit("IA-3", "NO-SUCH-SERIAL"),
    ]
    hits = tmp_path / "hits.csv"
    hits.write_text(hits_csv([*rows, hit("IA-4", "X9", reported_as="borrowed")]), encoding="utf-8")
    refused = caliber("tracing", "iarms-hits", str(hits), env=env)
    assert refused.returncode == 1
    assert "reported_as" in refused.stderr
    assert "row 5" in refused.stderr
    assert "nothing was recorded" in refused.stderr
    hits.write_text(hits_csv(rows), encoding="utf-8")
    done = caliber("tracing", "iarms-hits", str(hits), env=env)
    assert done.returncode == 0, done.stderr
    assert "3 hits: 2 linked" in done.stdout
    assert "0 already known, 1 unmatched, 0 ambiguous" in done.stdout
    assert "unmatched rows: 4" in done.stdout
    again = caliber("tracing", "iarms-hits", str(hits), env=env)
    assert "3 hits: 0 linked" in again.stdout
    assert "2 already known" in again.stdout
    checked = caliber("ledger", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_cells_that_look_like_terminal_markup_are_printed_as_they_are(tmp_path: Path) -> None:
    """A cell such as ``[/]`` or ``[bold]`` is text: it is printed, not read as the terminal table's markup."""
    env = {"CALIBER_DATA_DIR": str(tmp_path / "data")}
    hits = tmp_path / "hits.csv"
    hits.write_text(hits_csv([hit("IA-1", "X1", reported_as="[/]")]), encoding="utf-8")
    refused = caliber("tracing", "iarms-hits", str(hits), env=env)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert "'[/]' is not one of" in refused.stderr
    hits.write_text(hits_csv([hit("[/]", "X1"), hit("[bold]IA-2", "X2")]), encoding="utf-8")
    done = caliber("tracing", "iarms-hits", str(hits), env=env)
    assert done.returncode == 0, done.stderr
    assert "2 hits: 0 linked" in done.stdout
    assert "[bold]IA-2" in done.stdout
