"""Every page at a phone's width (390 x 844) as every role that may see it, and at 1280 px as the admin: nothing
scrolls sideways, nothing overlaps.

The pages come from the app's route table: every GET route is either visited here (``VISITS``, its path
parameters filled with the demo's records) or excluded with the reason (``EXCLUDED``); a new route that is
neither fails the first test. Who may see a page is read from the authorisation matrix
(tests/test_authorization.py). On each page every ``<details>`` is opened first, so the forms folded inside are
measured too. A page fails when the document is wider than the window (a table may scroll inside its own
``.table-wrap``, the page may not), when two visible form controls overlap, when a control's label box covers
another control, or when a checkbox's or radio's label text does not start beside its box. The desktop pass is there
for forms that set several fields a row: a hint that will not wrap widens its field over the next one there (at a
phone's width the same hint widens the page instead).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from playwright.sync_api import Browser, BrowserContext

from caliber.app import create_app
from caliber.config import Settings
from tests.browser.conftest import log_in
from tests.browser.demo_site import ROLE_USERS, DemoSite
from tests.test_authorization import ANON, CASES

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 390, 844
DESKTOP = 1280

VISITS: dict[str, list[str]] = {
    "/": ["/"],
    "/login": ["/login"],
    "/account": ["/account/"],
    "/users": ["/users/"],
    "/users/new": ["/users/new"],
    "/users/{user_id:uuid}": ["/users/{witness_id}"],
    "/depots": ["/depots/"],
    "/depots/new": ["/depots/new"],
    "/depots/{depot_id:uuid}": ["/depots/{depot_id}"],
    "/depots/{depot_id:uuid}/edit": ["/depots/{depot_id}/edit"],
    "/items": ["/items/", "/items/?q=Zastava"],
    "/items/new": ["/items/new"],
    "/items/intake": ["/items/intake"],
    "/items/{code:str}": ["/items/{item_code}"],
    "/lots": ["/lots/"],
    "/lots/new": ["/lots/new"],
    "/lots/{code:str}": ["/lots/{lot_code}"],
    "/scan": [
        "/scan/?mode=lookup",
        "/scan/?mode=move",
        "/scan/?mode=count&check={check_id}",
        "/scan/?mode=verify&event={approved_event}",
    ],
    "/imports": ["/imports/"],
    "/imports/{sha256:str}": ["/imports/{import_sha}"],
    "/tracing/iarms-hits": ["/tracing/iarms-hits/"],
    "/transfers": ["/transfers/"],
    "/transfers/new": ["/transfers/new"],
    "/transfers/{transfer_id:uuid}": ["/transfers/{transfer_id}"],
    "/stockchecks": ["/stockchecks/"],
    "/stockchecks/{check_id:uuid}": ["/stockchecks/{check_id}"],
    "/destructions": ["/destructions/"],
    "/destructions/new": ["/destructions/new"],
    "/destructions/{event_id:uuid}": ["/destructions/{planned_event}", "/destructions/{approved_event}", "/destructions/{certified_event}"],
    "/destructions/{event_id:uuid}/transfer": ["/destructions/{planned_event}/transfer"],
    "/certificates/{code:str}": ["/certificates/{certificate_code}"],
    "/reports": ["/reports/", "/reports/?period={year}"],
    "/reports/{key:str}": ["/reports/{half}"],
    "/reports/records": ["/reports/records?period={year}&jurisdiction=RS&measure=declared"],
    "/reports/targets": ["/reports/targets"],
    "/print": ["/print/"],
    "/printers": ["/printers/"],
    "/printers/new": ["/printers/new"],
    "/printers/{printer_id:uuid}/edit": ["/printers/{printer_id}/edit"],
    "/tracing": ["/tracing/"],
    "/tracing/weapons/{code:str}": ["/tracing/weapons/{trace_code}", "/tracing/weapons/{item_code}"],
    "/tracing/requests/{request_id:uuid}": ["/tracing/requests/{request_id}", "/tracing/requests/{answered_request}"],
    "/tracing/incoming/new": ["/tracing/incoming/new"],
    "/tracing/incoming/{incoming_id:uuid}": ["/tracing/incoming/{incoming_id}"],
    "/ledger": ["/ledger/"],
    "/ledger/entries/{index:int}": ["/ledger/entries/0", "/ledger/entries/{last_entry}"],
    "/ledger/timeline": ["/ledger/timeline?subject={item_code}"],
}
"""Each HTML GET route (as the route table writes it) and the addresses visited for it."""

EXCLUDED: dict[str, str] = {
    "/health": "JSON for a load balancer",
    "/ready": "JSON for a load balancer",
    "/static/{file_path:path}": "the stylesheet, scripts and icons",
    "/s/{code:str}": "a label's QR link: a redirect to the record's page (visited as /items/{code})",
    "/labels/{filename:str}": "a label image (PNG or SVG)",
    "/print/test/{key:str}": "a PDF test sheet",
    "/imports/template.csv": "a CSV file",
    "/imports/template.xlsx": "a spreadsheet",
    "/imports/{sha256:str}/progress": "a fragment the import page polls into itself (measured there, /imports/{sha256})",
    "/destructions/{event_id:uuid}/manifest.csv": "a CSV file",
    "/destructions/{event_id:uuid}/certificate.pdf": "a PDF (its page 1 is in test_screenshots)",
    "/reports/{key:str}/pdf": "a PDF",
    "/reports/{key:str}/csv": "a CSV file",
    "/reports/{key:str}/csv/{table:str}": "a CSV file",
    "/reports/{key:str}/xlsx": "a spreadsheet",
    "/ledger/bundle": "a download: the log's bundle for caliber-verify",
    "/ledger/entries/{index:int}/proof": "a text file: the entry's tlog-proof",
}
EXCLUDED_PREFIXES: dict[str, str] = {
    "/api/": "JSON, CSV and text for programs",
    "/schema": "Litestar's OpenAPI documents and Swagger UI",
}
PUBLIC = {"/certificates/{code:str}": "anyone with a certificate's code (the matrix's case is before any certificate exists)"}
ROLES = list(ROLE_USERS)

MEASURE = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const shown = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' && s.opacity !== '0';
  };
  const labelOf = el => (el.labels && el.labels[0]) || el.closest('label');
  const name = el => {
    const label = labelOf(el);
    const text = (label ? label.innerText : el.innerText || el.value || el.getAttribute('aria-label') || '').trim().split('\\n')[0];
    return `${el.tagName.toLowerCase()}${el.name ? '[name=' + el.name + ']' : ''} "${text.slice(0, 50)}"`;
  };
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const controls = [...document.querySelectorAll('input, select, textarea, button')]
    .filter(el => el.type !== 'hidden' && shown(el));
  const boxes = controls.map(el => el.getBoundingClientRect());
  const problems = [];
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      if (overlap(boxes[i], boxes[j])) problems.push(`${name(controls[i])} overlaps ${name(controls[j])}`);
    }
    const label = labelOf(controls[i]);
    if (label && shown(label)) {
      const box = label.getBoundingClientRect();
      controls.forEach((other, j) => {
        if (j !== i && !label.contains(other) && labelOf(other) !== label && overlap(box, boxes[j])) {
          problems.push(`the label of ${name(controls[i])} covers ${name(other)}`);
        }
      });
    }
    if ((controls[i].type === 'checkbox' || controls[i].type === 'radio') && label && label.contains(controls[i])) {
      const range = document.createRange();
      const text = [...label.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
      if (text) {
        range.selectNodeContents(text);
        const first = range.getClientRects()[0];
        if (first && (first.top >= boxes[i].bottom || first.left < boxes[i].right - 1)) {
          problems.push(`the label of ${name(controls[i])} is not beside its box`);
        }
      }
    }
  }
  return {width: document.documentElement.scrollWidth, inner: window.innerWidth, problems};
}"""


def html_get_routes() -> set[str]:
    """Every GET route of the app as its route table writes it, but those of the excluded prefixes."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env({"CALIBER_DATA_DIR": folder, "CALIBER_BASE_URL": "http://127.0.0.1", "CALIBER_SECRET_KEY": "k" * 40})
        app = create_app(settings)
    return {
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute) and "GET" in route.methods and not route.path.startswith(tuple(EXCLUDED_PREFIXES))
    }


def allowed_roles(template: str) -> list[str]:
    """The roles the authorisation matrix lets see ``template`` (at their own depot)."""
    if template in PUBLIC:
        return [*ROLES, ANON]
    cases = [c for c in CASES if c.method == "GET" and c.scope == "depot" and _same(c.path, template)]
    assert cases, f"{template} is not in the authorisation matrix"
    expected = cases[0].expected
    return [role for role in [*ROLES, ANON] if expected[role] not in {302, 401, 403, 404}]


def _same(path: str, template: str) -> bool:
    path = path.split("?", maxsplit=1)[0]
    return (path if path == "/" else path.rstrip("/")) == template


def test_every_html_get_route_is_visited_or_excluded_with_a_reason() -> None:
    routes = html_get_routes()
    escaping = routes - set(VISITS) - set(EXCLUDED)
    assert not escaping, f"GET routes neither visited by this test nor excluded (with why) in EXCLUDED: {sorted(escaping)}"
    gone = (set(VISITS) | set(EXCLUDED)) - routes
    assert not gone, f"routes listed here that the app no longer has: {sorted(gone)}"


def logged_in_context(browser: Browser, demo: DemoSite, role: str, width: int) -> BrowserContext:
    """A browser context ``width`` px wide, logged in as the demo user of ``role`` (none for ANON)."""
    context = browser.new_context(viewport={"width": width, "height": HEIGHT})
    if role != ANON:
        log_in(context.new_page(), demo.server, ROLE_USERS[role], demo.password(role))
    return context


@pytest.fixture(scope="module")
def contexts(browser: Browser, demo: DemoSite) -> Iterator[dict[str, BrowserContext]]:
    """One logged-in browser context a role (and one anonymous), at a phone's width."""
    made = {role: logged_in_context(browser, demo, role, WIDTH) for role in [*ROLES, ANON]}
    yield made
    for context in made.values():
        context.close()


def visit_every_page(context: BrowserContext, demo: DemoSite, role: str, width: int) -> tuple[int, list[str]]:
    """Each page ``role`` may see, measured: how many were, and what is wrong on them."""
    failures: list[str] = []
    visited = 0
    tab = context.pages[0] if context.pages else context.new_page()
    for template, paths in VISITS.items():
        if role not in allowed_roles(template):
            continue
        for path in paths:
            address = path.format(**demo.records)
            answer = tab.goto(demo.server.url + address)
            assert answer is not None
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                failures.append(f"{address} as {role}: {answer.status} {answer.headers.get('content-type')}, not a page")
                continue
            found: dict[str, Any] = tab.evaluate(MEASURE)
            visited += 1
            if found["width"] > found["inner"]:
                failures.append(f"{address} as {role} at {width} px: the page is {found['width']} px wide")
            failures += [f"{address} as {role} at {width} px: {problem}" for problem in found["problems"]]
    return visited, failures


def test_no_page_scrolls_sideways_or_overlaps_its_controls_at_a_phones_width(contexts: dict[str, BrowserContext], demo: DemoSite) -> None:
    failures: list[str] = []
    visited = 0
    for role, context in contexts.items():
        seen, wrong = visit_every_page(context, demo, role, WIDTH)
        visited, failures = visited + seen, failures + wrong
    assert visited > 200
    assert not failures, "\n".join(failures)


def test_no_page_overlaps_its_controls_on_a_desktop(browser: Browser, demo: DemoSite) -> None:
    """Several fields a row: a field whose hint will not wrap covers its neighbour here (as the serial number once was)."""
    context = logged_in_context(browser, demo, "admin", DESKTOP)
    try:
        visited, failures = visit_every_page(context, demo, "admin", DESKTOP)
    finally:
        context.close()
    assert visited > 40
    assert not failures, "\n".join(failures)
