"""The import graph of ``src/caliber``: no circle anywhere, and a ledger core that knows no domain.

Every import counts, at module level and inside functions (a function-level import is a circle
deferred, not removed); only those under ``if TYPE_CHECKING:`` are left out, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "caliber"
DOMAINS = ("accounts", "depots", "items", "transfers", "stockchecks", "imports", "labels", "destruction", "tracing", "reports")
LEDGER_CORE = ("store", "registry", "events", "eventdocs", "audit", "verify", "merkle", "canonical", "note", "signer", "models")
DECLARATIONS = ("events", "models", "lifecycle", "records", "countries")
"""Domain modules that only declare (event structs, tables, enums): the ledger core may read them."""


def modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``caliber`` modules that module ``name`` imports when it runs."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] == PACKAGE:
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    found.add(child if child in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return {module for module in found if module in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def reachable(edges: dict[str, set[str]], start: str) -> dict[str, str]:
    """Every module ``start`` imports, directly or not, each with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop()
        for target in edges.get(node, ()):
            if target not in seen and target != start:
                seen[target] = node
                todo.append(target)
    return seen


def test_the_graph_is_read() -> None:
    edges = graph()
    assert "caliber.ledger.registry" in edges["caliber.ledger.store"]
    assert "caliber.depots.service" in edges["caliber.domains"]
    assert "caliber.items.appliers" in edges["caliber.domains"]
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    assert circles(graph()) == []


def test_the_ledger_core_imports_no_domain() -> None:
    edges = graph()
    wrong = {}
    for core in LEDGER_CORE:
        start = f"{PACKAGE}.ledger.{core}"
        for module, via in reachable(edges, start).items():
            parts = module.split(".")
            in_domain = len(parts) > 1 and parts[1] in DOMAINS
            if module == f"{PACKAGE}.domains" or (in_domain and parts[-1] not in DECLARATIONS):
                wrong[f"{start} -> {module}"] = via
    assert wrong == {}, "the ledger core reaches domain code (module: imported by)"


FRONT = ("routes", "pages", "api")
"""A domain's HTTP front (its routes, pages and API, and ``*_routes``/``*_pages``): only the app imports them."""
MAX_LINES = 400
LONG_MODULES = {
    "destruction/pages.py": "the pages of a destruction's steps, each a few lines over one shared scene (plan to certificate)",
    "items/fields.py": "two tables of field definitions (weapons and components, lots) that read as one",
    "backup.py": "one procedure (online backup, restore) whose steps share their checks",
    "db.py": "the engine, sessions and the prepared statements every request runs, kept together to be compiled once",
    "demo.py": "demo data: one long list of records, not logic",
    "ledger/store.py": "the ledger's write path, one transaction from lock to applied state",
    "ledger/sentences.py": "one sentence per event type, a table in code",
    "ledger/verify.py": "the offline verifier, kept in one file an auditor reads from top to bottom",
    "reports/service.py": "one measure per Roadmap KPI, a table in code",
}
"""Modules over :data:`MAX_LINES` lines, each with the reason it is one module."""


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in DOMAINS else None


def is_front(module: str) -> bool:
    leaf = module.rsplit(".", 1)[-1]
    return leaf in FRONT or leaf.endswith(("_routes", "_pages"))


def crossings() -> list[str]:
    """Imports of another domain's front or of a ``_private`` name from another domain, as ``importer -> imported``."""
    found = modules()
    known = set(found)
    wrong = []
    for name, path in sorted(found.items()):
        home = domain_of(name)
        if home is None:
            continue
        for module in sorted(imports_of(name, path, known)):
            other = domain_of(module)
            if other not in (None, home) and is_front(module):
                wrong.append(f"{name} -> {module}")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and domain_of(node.module or "") not in (None, home):
                wrong += [f"{name} -> {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return wrong


def test_the_crossing_check_sees_a_front_and_a_private_name() -> None:
    assert is_front("caliber.items.pages")
    assert is_front("caliber.labels.scan_routes")
    assert not is_front("caliber.items.queries")
    assert domain_of("caliber.transfers.service") == "transfers"
    assert domain_of("caliber.ledger.routes") is None


def test_no_domain_imports_another_domains_pages_routes_api_or_private_names() -> None:
    assert crossings() == []


def test_no_module_is_over_the_line_limit_unless_listed_with_its_reason() -> None:
    source = SRC / PACKAGE
    long = {str(p.relative_to(source)): n for p in source.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert set(long) - set(LONG_MODULES) == set(), f"modules over {MAX_LINES} lines: {long}"
    assert set(LONG_MODULES) - set(long) == set(), "listed as long but no longer are: take them off the list"
    assert all(reason.strip() for reason in LONG_MODULES.values())
