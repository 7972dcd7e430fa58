"""The documentation matches the code: every module is in the layout, and every link between the documents leads
to a file and a heading that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "caliber"
DOCUMENTS = [ROOT / "README.md", ROOT / "tests" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: small letters, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in document.read_text().splitlines() if line.startswith("#")}


def test_every_module_is_in_the_layout_and_every_module_there_exists() -> None:
    modules = {str(p.relative_to(SOURCE)) for p in SOURCE.rglob("*.py")}
    listed = set(re.findall(r"^\| `([\w/]+\.py)` \|", (ROOT / "docs" / "layout.md").read_text(), re.M))
    assert modules - listed == set(), f"modules missing from docs/layout.md: {sorted(modules - listed)}"
    assert listed - modules == set(), f"docs/layout.md names modules that do not exist: {sorted(listed - modules)}"


def test_every_link_between_the_documents_leads_somewhere() -> None:
    broken = []
    for document in DOCUMENTS:
        for target in LINK.findall(document.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            found = (document.parent / path).resolve() if path else document
            if not found.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such file)")
            elif fragment and found.suffix == ".md" and fragment not in anchors(found):
                broken.append(f"{document.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_keeps_the_two_commands_ci_and_newcomers_run() -> None:
    readme = (ROOT / "README.md").read_text()
    for marker in ("demo-command", "test-command"):
        assert f"<!-- {marker} -->" in readme
        assert f"<!-- /{marker} -->" in readme
