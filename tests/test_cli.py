"""The ``caliber`` command, run as a user would run it."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from caliber.demo import DEMO_USERS
from caliber.ledger import note
from tests.conftest import IN_CI, POSTGRES_URL, admin_sql, run_sync

COMMANDS = [
    *([], ["serve"], ["demo"], ["db"], ["db", "upgrade"], ["db", "revision"], ["user"], ["user", "create"], ["user", "list"]),
    *(["reports"], ["reports", "rebuild"], ["reports", "kpis"], ["items"], ["items", "iarms-export"], ["items", "makers"]),
    *(["tracing"], ["tracing", "due"], ["tracing", "iarms-hits"]),
    *(["destruction"], ["destruction", "approve"], ["destruction", "trace-rule"]),
]


def caliber(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "caliber", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    return {"CALIBER_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "caliber")
def test_every_command_has_help(command: list[str], data_env: dict[str, str]) -> None:
    result = caliber(*command, "--help", env=data_env)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_the_command_line_does_not_import_the_app_to_parse_arguments() -> None:
    code = "import sys, caliber.cli; print(sorted(m for m in ('litestar', 'sqlalchemy', 'alembic', 'granian') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_bad_setting_fails_with_one_line(data_env: dict[str, str]) -> None:
    result = caliber("user", "list", env={**data_env, "CALIBER_BASE_URL": "nonsense"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("caliber: CALIBER_BASE_URL: ")


def test_user_create_reads_the_password_from_stdin_and_user_list_shows_it(data_env: dict[str, str]) -> None:
    created = caliber("user", "create", "ana", "--role", "admin", "--name", "Ana Admin", env=data_env, stdin="a long password\n")
    assert created.returncode == 0, created.stderr
    assert "created ana (admin)" in created.stdout
    listed = caliber("user", "list", env=data_env)
    assert "Ana Admin" in listed.stdout


def test_user_create_explains_a_bad_password_and_writes_nothing(data_env: dict[str, str]) -> None:
    result = caliber("user", "create", "ana", "--role", "admin", env=data_env, stdin="short\n")
    assert result.returncode == 1
    assert "password" in result.stderr.lower()
    assert "ana" not in caliber("user", "list", env=data_env).stdout


def test_an_official_is_assigned_jurisdictions_on_the_command_line(data_env: dict[str, str]) -> None:
    created = caliber(
        "user",
        "create",
        "mila",
        "--role",
        "ministry_official",
        "--jurisdiction",
        "me",
        "--jurisdiction",
        "AL",
        env=data_env,
        stdin="a long password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created mila (ministry_official) in AL, ME" in created.stdout


def test_the_kpi_file_is_shown_copied_to_edit_and_checked(data_env: dict[str, str]) -> None:
    shown = caliber("reports", "kpis", env=data_env)
    assert shown.returncode == 0, shown.stderr
    assert "7.3" in shown.stdout  # the last shipped KPI
    copied = caliber("reports", "kpis", "--init", env=data_env)
    assert copied.returncode == 0, copied.stderr
    path = Path(data_env["CALIBER_DATA_DIR"]) / "kpis.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('measure = "destroyed"', 'measure = "weapons"', 1), encoding="utf-8")
    broken = caliber("reports", "kpis", env=data_env)
    assert broken.returncode == 1
    assert "kpi '6.1': measure must be one of" in broken.stderr
    assert caliber("reports", "kpis", "--init", env=data_env).returncode == 1  # never overwrites an edited file
    path.unlink()
    chosen = caliber("reports", "kpis", "--init", "--set", "2025-2030", env=data_env)
    assert chosen.returncode == 0, chosen.stderr
    assert "Roadmap 2025-2030" in caliber("reports", "kpis", env=data_env).stdout
    assert caliber("reports", "kpis", "--init", "--set", "2031", env=data_env).returncode == 2  # a set Caliber does not ship


def test_the_makers_file_is_shown_copied_to_edit_and_checked_and_serve_refuses_a_wrong_one(data_env: dict[str, str]) -> None:
    shown = caliber("items", "makers", env=data_env)
    assert shown.returncode == 0, shown.stderr
    assert "Zastava" in shown.stdout
    assert "M70AB2" in shown.stdout
    copied = caliber("items", "makers", "--init", env=data_env)
    assert copied.returncode == 0, copied.stderr
    path = Path(data_env["CALIBER_DATA_DIR"]) / "makers.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"Zastava Arms",', '"Zastava Arms", "Tula",', 1), encoding="utf-8")
    broken = caliber("items", "makers", env=data_env)
    assert broken.returncode == 1
    assert "makers.toml, line 67: 'Tula' is already a spelling of 'Zastava'" in broken.stderr
    assert caliber("items", "makers", "--init", env=data_env).returncode == 1  # never overwrites an edited file
    assert "the makers file cannot be used: " in _serve_refused(data_env)


def test_the_tracing_rule_is_shown_copied_to_edit_and_checked_and_serve_refuses_a_wrong_one(data_env: dict[str, str]) -> None:
    shown = caliber("destruction", "trace-rule", env=data_env)
    assert shown.returncode == 0, shown.stderr
    assert "found, seized" in shown.stdout
    assert "roadmap" in shown.stdout  # the shipped file
    copied = caliber("destruction", "trace-rule", "--init", env=data_env)
    assert copied.returncode == 0, copied.stderr
    path = Path(data_env["CALIBER_DATA_DIR"]) / "tracing.toml"
    text = path.read_text(encoding="utf-8")
    shipped = 'sources = ["seized", "found"]'
    path.write_text(text.replace(f"[jurisdiction.ME]\n{shipped}", "[jurisdiction.ME]\nsources = []", 1), encoding="utf-8")
    edited = caliber("destruction", "trace-rule", env=data_env)
    assert edited.returncode == 0, edited.stderr
    assert "nothing held back" in edited.stdout
    path.write_text(text.replace(f"[jurisdiction.XK]\n{shipped}", '[jurisdiction.XK]\nsources = ["surplus"]', 1), encoding="utf-8")
    broken = caliber("destruction", "trace-rule", env=data_env)
    assert broken.returncode == 1
    assert "tracing.toml: jurisdiction XK: 'surplus' has a known origin and is never traced" in broken.stderr
    assert caliber("destruction", "trace-rule", "--init", env=data_env).returncode == 1  # never overwrites an edited file
    refused = _serve_refused(data_env)
    assert "the tracing rule file cannot be used: " in refused
    assert "jurisdiction XK" in refused


def test_depot_staff_need_a_depot_on_the_command_line_too(data_env: dict[str, str]) -> None:
    result = caliber("user", "create", "marko", "--role", "depot_clerk", env=data_env, stdin="a long password\n")
    assert result.returncode == 1
    assert "at least one depot" in result.stderr


def test_demo_creates_data_once_and_prints_the_same_logins_again(data_env: dict[str, str]) -> None:
    first = caliber("demo", "--no-serve", env=data_env)
    assert first.returncode == 0, first.stderr
    lines = [line.split() for line in first.stdout.splitlines() if line.startswith("  ")]
    assert [row[1] for row in lines] == [user[3].value for user in DEMO_USERS]
    second = caliber("demo", "--no-serve", env=data_env)
    assert second.stdout == first.stdout
    listed = caliber("user", "list", env=data_env).stdout
    assert all(row[0] in listed for row in lines)


@pytest.mark.skipif(not POSTGRES_URL and not IN_CI, reason="CALIBER_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
def test_on_postgresql_an_unmigrated_database_is_refused_with_the_command_to_run(data_env: dict[str, str]) -> None:
    assert POSTGRES_URL, "CI=true but CALIBER_TEST_POSTGRES_URL is not set"
    name = f"caliber_empty_{secrets.token_hex(4)}"
    run_sync(admin_sql(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    try:
        env = {**data_env, "CALIBER_DATABASE_URL": f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"}
        refused = caliber("serve", env=env)
        assert refused.returncode == 1
        assert "run `caliber db upgrade`" in refused.stderr
        assert caliber("db", "upgrade", env=env).returncode == 0
        assert caliber("user", "list", env=env).returncode == 0
    finally:
        run_sync(admin_sql(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_ledger_commands_verify_check_export_and_catch_tampering(data_env: dict[str, str], tmp_path: Path) -> None:
    import sqlite3

    assert caliber("demo", "--no-serve", env=data_env).returncode == 0
    verified = caliber("ledger", "verify", env=data_env)
    assert verified.returncode == 0, verified.stderr
    assert "ledger OK" in verified.stdout
    assert caliber("ledger", "check", env=data_env).returncode == 0
    bundle = tmp_path / "ledger.bundle"
    exported = caliber("ledger", "export", str(bundle), env=data_env)
    assert exported.returncode == 0, exported.stderr
    key = caliber("ledger", "key", env=data_env).stdout.strip()
    verifier = Path(sys.executable).parent / "caliber-verify"  # the installed console script
    offline = subprocess.run([str(verifier), str(bundle), "--log-key", key], capture_output=True, text=True, check=False)
    assert offline.returncode == 0, offline.stderr

    database = Path(data_env["CALIBER_DATA_DIR"]) / "caliber.db"
    with sqlite3.connect(database) as connection:  # a database from before the reports: their projection is empty
        connection.execute("DELETE FROM report_record")
    assert "report_record" in caliber("ledger", "check", env=data_env).stdout
    rebuilt = caliber("reports", "rebuild", env=data_env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "reports rebuilt from" in rebuilt.stdout
    assert caliber("ledger", "check", env=data_env).returncode == 0

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE depot SET name = 'Renamed behind the ledger' WHERE code = 'RS-KRG-ARM'")
    checked = caliber("ledger", "check", env=data_env)
    assert checked.returncode == 1
    assert "Renamed behind the ledger" in checked.stdout
    with sqlite3.connect(database) as connection:
        data = connection.execute("SELECT data FROM ledger_entry WHERE idx = 3").fetchone()[0]
        connection.execute("UPDATE ledger_entry SET data = ? WHERE idx = 3", (data.replace(b'"AL"', b'"RS"').replace(b'"BA"', b'"RS"'),))
    tampered = caliber("ledger", "verify", env=data_env)
    assert tampered.returncode == 1
    assert "FAILED" in tampered.stderr
    assert "entry 4" in tampered.stderr or "entry 3" in tampered.stderr


def _serve_refused(env: dict[str, str]) -> str:
    """``caliber serve`` on a free port must refuse at once: its one line of error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "caliber", "serve", "--port", str(port)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
    return done.stderr


def test_a_rolled_back_database_fails_verify_naming_both_trees_and_serve_refuses_to_start(data_env: dict[str, str], tmp_path: Path) -> None:
    data = Path(data_env["CALIBER_DATA_DIR"])
    assert caliber("user", "create", "ana", "--role", "admin", env=data_env, stdin="a long password\n").returncode == 0
    assert caliber("ledger", "verify", env=data_env).returncode == 0
    shutil.copy(data / "caliber.db", tmp_path / "old.db")
    assert caliber("user", "create", "ben", "--role", "inspector", env=data_env, stdin="a long password\n").returncode == 0
    assert caliber("ledger", "verify", env=data_env).returncode == 0  # the signer signs the bigger tree
    shutil.copy(tmp_path / "old.db", data / "caliber.db")  # an older copy put back by hand
    failed = caliber("ledger", "verify", env=data_env)
    assert failed.returncode == 1
    assert re.search(
        r"the database's tree \(size 1, root \S+\) is behind the signer's last signed checkpoint \(size 2, root \S+\)", failed.stderr
    )
    refused = _serve_refused(data_env)
    assert refused.startswith("caliber: refusing to serve: the database's tree (size 1, ")
    assert "restore the newest backup" in refused


def test_no_command_appends_to_a_rolled_back_database(data_env: dict[str, str], tmp_path: Path) -> None:
    """Each command that writes custody events checks the log as serve does: an append there would fork the signed log."""
    data = Path(data_env["CALIBER_DATA_DIR"])
    assert caliber("user", "create", "ana", "--role", "admin", env=data_env, stdin="a long password\n").returncode == 0
    assert caliber("ledger", "verify", env=data_env).returncode == 0
    shutil.copy(data / "caliber.db", tmp_path / "old.db")
    assert caliber("user", "create", "ben", "--role", "inspector", env=data_env, stdin="a long password\n").returncode == 0
    assert caliber("ledger", "verify", env=data_env).returncode == 0
    shutil.copy(tmp_path / "old.db", data / "caliber.db")
    rows = "serial,manufacturer,model,calibre,un_type,intake_source\nX1,Zastava,M70,7.62x39mm,assault_rifle,surplus\n"
    (tmp_path / "rows.csv").write_text(rows)
    _skey, vkey = note.generate_key("witness.example", note.COSIGNATURE_V1)
    for command, refusing in (
        (["user", "create", "cem", "--role", "witness"], "refusing to create the user"),
        (["import", str(tmp_path / "rows.csv"), "--depot", "RS-KRG-1"], "refusing to import"),
        (["witness", "add", vkey], "refusing to register the witness"),
    ):
        refused = caliber(*command, env=data_env, stdin="a long password\n")
        assert refused.returncode == 1, command
        assert refused.stderr.startswith(f"caliber: {refusing}: the database's tree (size 1, "), refused.stderr
    assert sqlite3.connect(data / "caliber.db").execute("SELECT size FROM ledger_head").fetchone() == (1,)  # nothing appended


def test_changing_the_base_url_moves_the_labels_never_the_log(data_env: dict[str, str]) -> None:
    data = Path(data_env["CALIBER_DATA_DIR"])
    first = {**data_env, "CALIBER_BASE_URL": "http://127.0.0.1:8000"}
    assert caliber("user", "create", "ana", "--role", "admin", env=first, stdin="a long password\n").returncode == 0
    key = (data / "log-key").read_text()  # made with the log, before anything is signed
    assert key.startswith("PRIVATE+KEY+127.0.0.1:8000/ledger+")
    assert caliber("ledger", "verify", env=first).returncode == 0
    moved = {**data_env, "CALIBER_BASE_URL": "https://caliber.example.org"}
    assert caliber("user", "create", "ben", "--role", "inspector", env=moved, stdin="a long password\n").returncode == 0
    verified = caliber("ledger", "verify", env=moved)
    assert verified.returncode == 0, verified.stderr
    assert caliber("ledger", "verify", env=first).returncode == 0
    assert (data / "log-key").read_text() == key
    assert caliber("ledger", "key", env=moved).stdout.startswith("127.0.0.1:8000/ledger+")


def test_serve_refuses_a_log_of_another_origin_or_key_or_without_its_key(data_env: dict[str, str], tmp_path: Path) -> None:
    from caliber.ledger import note

    data = Path(data_env["CALIBER_DATA_DIR"])
    assert caliber("user", "create", "ana", "--role", "admin", env=data_env, stdin="a long password\n").returncode == 0
    assert caliber("ledger", "verify", env=data_env).returncode == 0
    renamed = _serve_refused({**data_env, "CALIBER_LOG_ORIGIN": "other.example.org/ledger"})
    assert "the log key is for the origin '127.0.0.1:8000/ledger', not for the configured origin 'other.example.org/ledger'" in renamed

    host = tmp_path / "second-host"  # another host's data dir, the same database
    host.mkdir()
    shutil.copy(data / "caliber.db", host / "caliber.db")
    without_key = _serve_refused({"CALIBER_DATA_DIR": str(host)})
    assert "no log key" in without_key
    assert "restore the log-key file from a backup, or set CALIBER_LOG_KEY" in without_key
    for command in (["ledger", "verify"], ["ledger", "export", str(tmp_path / "bundle")]):
        unkeyed = caliber(*command, env={"CALIBER_DATA_DIR": str(host)})
        assert unkeyed.returncode == 1
        assert "no log key" in unkeyed.stderr
    assert not (host / "log-key").exists()
    other_origin, _ = note.generate_key("elsewhere.example.org/ledger")
    named_otherwise = _serve_refused({"CALIBER_DATA_DIR": str(host), "CALIBER_LOG_KEY": other_origin})
    assert (
        "the ledger's entries name the log '127.0.0.1:8000/ledger' but the configured origin is 'elsewhere.example.org/ledger'"
        in named_otherwise
    )
    same_origin, _ = note.generate_key("127.0.0.1:8000/ledger")
    another_key = _serve_refused({"CALIBER_DATA_DIR": str(host), "CALIBER_LOG_KEY": same_origin})
    assert "is not signed by this server's log key" in another_key


def test_the_demo_labels_point_at_the_port_it_serves(data_env: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in {**os.environ, **data_env}.items() if key != "CALIBER_BASE_URL"}
    command = [sys.executable, "-m", "caliber", "demo", "--port", str(port), "--scale", "0.01"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as server:
        try:
            assert server.stdout is not None
            said = next(line for line in server.stdout if line.startswith("Caliber on "))
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert said.rstrip().endswith(f"QR labels point at http://127.0.0.1:{port})")


def test_items_iarms_export_writes_the_header_and_refuses_an_unknown_depot(data_env: dict[str, str], tmp_path: Path) -> None:
    from caliber.items.iarms import COLUMNS

    target = tmp_path / "iarms.csv"
    result = caliber("items", "iarms-export", "--format", "csv", str(target), env=data_env)
    assert result.returncode == 0, result.stderr
    assert target.read_text().splitlines() == [",".join(COLUMNS)]
    assert "iARMS records of 0 weapons (CSV)" in result.stdout
    unknown = caliber("items", "iarms-export", "--format", "xml", "--depot", "NO-SUCH", str(tmp_path / "x.xml"), env=data_env)
    assert unknown.returncode == 1
    assert "no depot with code NO-SUCH" in unknown.stderr


def test_tracing_due_lists_what_is_overdue_and_due_soon_for_a_cron_job(data_env: dict[str, str]) -> None:
    empty = caliber("tracing", "due", env=data_env)
    assert empty.returncode == 0, empty.stderr
    assert "0 overdue, 0 due within 7 days." in empty.stdout
    assert caliber("demo", "--no-serve", "--scale", "0.01", env=data_env).returncode == 0
    listed = caliber("tracing", "due", env=data_env)
    assert listed.returncode == 0, listed.stderr
    overdue, _, soon = listed.stdout.partition("Due within 7 days:")
    assert "1 overdue, 1 due within 7 days." in overdue
    assert "10 days overdue: we sent, awaiting an answer, to INTERPOL" in overdue
    assert "serial FND-2611, case KU 41/26" in overdue
    assert "/tracing/requests/" in overdue
    assert "due in 3 days" in soon
    assert "FND-2613" not in listed.stdout  # answered, if late
    wider = caliber("tracing", "due", "--days", "30", env=data_env)
    assert "from AT, their reference BK-2026/0712" in wider.stdout
    assert "due in 25 days: to answer" in wider.stdout
    wrong = caliber("tracing", "due", "--days", "-1", env=data_env)
    assert wrong.returncode == 2
    assert "--days" in wrong.stderr
