"""Every API operation of Caliber's own OpenAPI schema, with inputs generated from it (schemathesis), as every role:
never a server error, never an answer that breaks the schema.

Against ``caliber serve`` on loopback over a small demo (depots, records, a
destruction, users of every role). ``CALIBER_FUZZ_EXAMPLES`` sets the
examples per operation (CI runs a few; the benchmark runner more: ``python -m bench.fuzz``; the operations that
take an integer always get at least 30, in a slow test), and
``CALIBER_FUZZ_REPORT`` names a file for the count of operations and the failures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from bench.load import api_token
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.live import LiveServer, new_server, serving

EXAMPLES = int(os.environ.get("CALIBER_FUZZ_EXAMPLES", "4"))
INTEGER_EXAMPLES = 30
"""Examples per operation that takes an integer (query, path or body), whatever ``CALIBER_FUZZ_EXAMPLES`` says."""
ROLES = ("admin", "depot_clerk", "depot_manager", "witness", "inspector", "ministry_official")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A served demo, and an API token of each role's demo user."""
    server = new_server(tmp_path_factory.mktemp("fuzz"))
    server.caliber("demo", "--no-serve", "--scale", "0.01")
    logins = [line.split("\t") for line in (server.data_dir / "demo-logins.txt").read_text().splitlines()]
    with serving(server):
        tokens = {role: api_token(server.url, username, password) for username, role, password in logins}
        yield server, tokens


def _fuzz(
    server: LiveServer,
    tokens: dict[str, str],
    examples: int,
    wanted: Callable[[dict[str, Any]], bool],
    known: Mapping[str, str] | None = None,
) -> tuple[int, list[str]]:
    """Each operation ``wanted`` picks (by its OpenAPI schema), with ``examples`` inputs sent as every role: how many
    operations ran, and what failed. With ``known`` (parameter name: a value the demo has), each input is sent again
    with those parameters set, so that the others reach past a 404 or 422 into the code."""
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json", headers={"Authorization": f"Bearer {tokens['admin']}"})
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    failures: list[str] = []
    operations = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        if not wanted(operation.definition.raw):
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def each(case: schemathesis.Case) -> None:
            for again in (False, True):
                if again and not (known and _settle(case, known)):
                    break
                for role in ROLES:
                    case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {tokens[role]}"}, checks=checks)

        try:
            each()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (every operation is tried; all failures reported together)
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    return operations, failures


def test_no_operation_fails_or_breaks_its_schema_for_any_role(fuzzed: tuple[LiveServer, dict[str, str]]) -> None:
    server, tokens = fuzzed
    operations, failures = _fuzz(server, tokens, EXAMPLES, lambda _: True)
    if report := os.environ.get("CALIBER_FUZZ_REPORT"):  # the benchmark runner's figures
        Path(report).write_text(json.dumps({"operations": operations, "examples": EXAMPLES, "failures": failures}))
    assert operations > 50
    assert failures == [], "\n\n".join(failures)


@pytest.mark.slow
def test_no_operation_taking_an_integer_fails_at_many_examples(fuzzed: tuple[LiveServer, dict[str, str]]) -> None:
    """Integers are where few examples miss the edges (a limit past 2^63 was a 500): those operations get
    :data:`INTEGER_EXAMPLES` each."""
    server, tokens = fuzzed
    published = httpx.get(f"{server.url}/schema/openapi.json", headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=30)
    components = published.json().get("components", {}).get("schemas", {})
    events = httpx.get(f"{server.url}/api/destructions", headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=30).json()
    known = {"event_id": events[0]["id"], "period": str(dt.date.today().year), "jurisdiction": "RS", "measure": "declared"}
    examples = max(EXAMPLES, INTEGER_EXAMPLES)
    operations, failures = _fuzz(server, tokens, examples, lambda raw: _takes_integers(raw, components), known)
    assert operations >= 8
    assert failures == [], "\n\n".join(failures)


def _settle(case: schemathesis.Case, known: Mapping[str, str]) -> bool:
    """Set the parameters of ``case`` that ``known`` has a value for; whether there were any."""
    settled = False
    for parameters in (case.path_parameters, case.query):
        for name in set(parameters or {}) & set(known):
            parameters[name] = known[name]  # type: ignore[index]
            settled = True
    return settled


def _takes_integers(definition: dict[str, Any], components: dict[str, Any]) -> bool:
    """Whether an operation's parameters or body hold an integer, through the component schemas it refers to."""
    seen: set[str] = set()
    pending = [json.dumps(definition.get("parameters", [])) + json.dumps(definition.get("requestBody", {}))]
    while pending:
        text = pending.pop()
        if '"integer"' in text:
            return True
        for name in re.findall(r"#/components/schemas/([^\"]+)", text):
            if name not in seen and name in components:
                seen.add(name)
                pending.append(json.dumps(components[name]))
    return False


def test_the_fuzzed_server_logged_no_failure(fuzzed: tuple[LiveServer, dict[str, str]]) -> None:
    """Runs after the operations: the server's log has no error record (a 5xx the checks could have missed)."""
    server, _ = fuzzed
    log = Path(server.data_dir / "serve.log").read_text()
    assert '"level": "error"' not in log, log[-2000:]
