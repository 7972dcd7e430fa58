"""Every API operation of Caliber's own OpenAPI schema, with inputs generated from it (schemathesis), as every role:
never a server error, never an answer that breaks the schema.

Against ``caliber serve`` on loopback over a small demo (depots, records, a
destruction, users of every role). ``CALIBER_FUZZ_EXAMPLES`` sets the
examples per operation (CI runs a few; the benchmark runner more: ``python -m bench.fuzz``), and
``CALIBER_FUZZ_REPORT`` names a file for the count of operations and the failures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from bench.load import api_token
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.live import LiveServer, new_server, serving

EXAMPLES = int(os.environ.get("CALIBER_FUZZ_EXAMPLES", "4"))
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


def test_no_operation_fails_or_breaks_its_schema_for_any_role(fuzzed: tuple[LiveServer, dict[str, str]]) -> None:
    server, tokens = fuzzed
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json", headers={"Authorization": f"Bearer {tokens['admin']}"})
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    failures: list[str] = []
    operations = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def each(case: schemathesis.Case) -> None:
            for role in ROLES:
                case.call_and_validate(base_url=server.url, headers={"Authorization": f"Bearer {tokens[role]}"}, checks=checks)

        try:
            each()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (every operation is tried; all failures reported together)
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    if report := os.environ.get("CALIBER_FUZZ_REPORT"):  # the benchmark runner's figures
        Path(report).write_text(json.dumps({"operations": operations, "examples": EXAMPLES, "failures": failures}))
    assert operations > 50
    assert failures == [], "\n\n".join(failures)


def test_the_fuzzed_server_logged_no_failure(fuzzed: tuple[LiveServer, dict[str, str]]) -> None:
    """Runs after the operations: the server's log has no error record (a 5xx the checks could have missed)."""
    server, _ = fuzzed
    log = Path(server.data_dir / "serve.log").read_text()
    assert '"level": "error"' not in log, log[-2000:]
