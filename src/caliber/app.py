"""``create_app(settings)``: the Litestar application with its plugins, routes and templates."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from markupsafe import Markup

from caliber.accounts.actor import Actor
from caliber.accounts.guards import CSRF_COOKIE, AuthenticationMiddleware, BearerAwareCSRFMiddleware, current_actor, logged_in
from caliber.accounts.models import Role
from caliber.accounts.routes import AccountPages, LoginPages, TokenApi, UserApi, UserPages
from caliber.accounts.service import AccountService
from caliber.config import Settings, resource_path
from caliber.db import Database, create_engine
from caliber.depots.routes import DepotApi, DepotPages, JurisdictionApi, LocationApi
from caliber.depots.service import DepotService
from caliber.destruction.pages import DestructionPages
from caliber.destruction.routes import DestructionApi
from caliber.destruction.service import DestructionService
from caliber.destruction.trace_rule import load_trace_rule
from caliber.destruction.verification import CertificatePages
from caliber.domains import registry
from caliber.hardening import RefuseNul, RequestLog, security_headers
from caliber.imports.routes import ImportApi, ImportPages
from caliber.imports.service import ImportJobs
from caliber.items.api import ItemApi, LotApi, MoveApi, ScanApi
from caliber.items.makers import load_makers
from caliber.items.pages import ItemPages, LabelLinks, LotPages
from caliber.items.service import ItemService
from caliber.labels.printer_routes import PrinterApi, PrinterPages
from caliber.labels.printing import LabelPrinting
from caliber.labels.routes import LabelApi, LabelFiles, PrintPages
from caliber.labels.scan_routes import ScanPage
from caliber.ledger.audit import check_log
from caliber.ledger.pages import LedgerPages
from caliber.ledger.routes import LedgerApi
from caliber.ledger.signer import LogSigner
from caliber.ledger.store import Ledger
from caliber.ledger.witness import WitnessService
from caliber.menu import main_menu
from caliber.reports.kpis import load_roadmap
from caliber.reports.pages import ReportFiles, ReportPages
from caliber.reports.routes import ReportApi
from caliber.reports.service import ReportService
from caliber.reports.targets import TargetService
from caliber.schemas import visible
from caliber.site import health, home, ready
from caliber.stockchecks.models import StockCheckStatus
from caliber.stockchecks.pages import StockCheckApi, StockCheckPages
from caliber.stockchecks.service import StockCheckService
from caliber.times import local_clock, local_day, local_time
from caliber.tracing.hits_pages import IarmsHitPages
from caliber.tracing.lifecycle import TRACED_SOURCES
from caliber.tracing.pages import TracingPages
from caliber.tracing.routes import TracingApi
from caliber.tracing.service import TracingService
from caliber.transfers.models import TransferStatus
from caliber.transfers.pages import TransferApi, TransferPages
from caliber.transfers.service import TransferService
from caliber.web import ProblemDocumentedJson, exception_handlers

__all__ = ["create_app"]

MAX_BODY_BYTES = 1024 * 1024
SERVICES_FOR_ACTORS = (
    "inventory",
    "items",
    "imports",
    "transfers",
    "tracing",
    "destructions",
    "reports",
    "targets",
    "stockchecks",
    "printing",
    "witnesses",
)
"""The domain services only logged-in routes use (see ``_state_for_actor``)."""


def create_app(settings: Settings, database: Database | None = None) -> Litestar:
    """The Caliber web application for ``settings``.

    ``database`` lets a caller (tests, the CLI) share one engine; without it
    the app builds its own and disposes of it at shutdown.
    """
    owns_database = database is None
    alchemy = SQLAlchemyAsyncConfig(
        engine_instance=database.engine if database else create_engine(settings.database_url),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit",
    )
    db = database or Database(alchemy.get_engine(), alchemy.create_session_maker())
    ledger = Ledger(db, settings.log_origin, registry())
    signer = LogSigner.for_data_dir(settings.log_origin, settings.data_dir, settings.log_key)
    items = ItemService(ledger, settings.data_dir / "photos", load_makers(settings.data_dir))
    destructions = DestructionService(ledger, items, settings.data_dir / "photos", settings.zone, load_trace_rule(settings.data_dir))
    printing = LabelPrinting(ledger, items, destructions, settings.base_url)
    reports = ReportService(db)
    imports = ImportJobs(items, settings.data_dir / "imports", imported=printing.prepare)

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await check_log(ledger, signer)  # never serve (and append to) a log this signer did not sign, or a rolled-back one
        try:
            yield
        finally:
            await imports.shutdown()
            if owns_database:
                await db.dispose()

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        exclude=["/health", "/ready", "/static/"],
    )
    templates = TemplateConfig(
        directory=resource_path("templates"), engine=JinjaTemplateEngine, engine_callback=partial(_template_globals, zone=settings.zone)
    )
    return Litestar(
        route_handlers=[
            home,
            health,
            ready,
            LoginPages,
            UserPages,
            AccountPages,
            DepotPages,
            UserApi,
            TokenApi,
            JurisdictionApi,
            DepotApi,
            LocationApi,
            ItemPages,
            LotPages,
            ScanPage,
            LabelLinks,
            ImportPages,
            ImportApi,
            TransferPages,
            TransferApi,
            TracingApi,
            TracingPages,
            IarmsHitPages,
            DestructionPages,
            DestructionApi,
            CertificatePages,
            ReportPages,
            ReportFiles,
            ReportApi,
            StockCheckPages,
            StockCheckApi,
            LabelFiles,
            LabelApi,
            PrintPages,
            PrinterApi,
            PrinterPages,
            ItemApi,
            LotApi,
            MoveApi,
            ScanApi,
            LedgerApi,
            LedgerPages,
            create_static_files_router(
                path="/static", directories=[resource_path("static")], opt={"public": True}, include_in_schema=False
            ),
        ],
        plugins=[SQLAlchemyPlugin(config=alchemy), HTMXPlugin()],
        middleware=[RequestLog, RefuseNul, DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf), AuthenticationMiddleware],
        before_send=[security_headers],
        guards=[logged_in],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "db": Provide(lambda: db, sync_to_thread=False),
            "accounts": Provide(_state("accounts"), sync_to_thread=False),
            **{key: Provide(_state_for_actor(key), sync_to_thread=False) for key in SERVICES_FOR_ACTORS},
            "ledger": Provide(_state("ledger"), sync_to_thread=False),
            "signer": Provide(_state("signer"), sync_to_thread=False),
            "actor": Provide(_actor, sync_to_thread=False),
        },
        template_config=templates,
        exception_handlers=exception_handlers,
        openapi_config=_openapi(),
        lifespan=[lifespan],
        state=State(
            {
                "settings": settings,
                "db": db,
                "ledger": ledger,
                "signer": signer,
                "accounts": AccountService(ledger, settings.session_hours),
                "inventory": DepotService(ledger),
                "items": items,
                "imports": imports,
                "transfers": TransferService(ledger, items),
                "tracing": TracingService(ledger, settings.zone, items.makers),
                "destructions": destructions,
                "reports": reports,
                "targets": TargetService(ledger, reports, load_roadmap(settings.data_dir), settings.zone),
                "stockchecks": StockCheckService(ledger, settings.full_count_days),
                "printing": printing,
                "witnesses": WitnessService(ledger),
            }
        ),
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,  # `caliber serve` configures logging (JSON lines); an embedding process keeps its own
        signature_namespace={
            "Actor": Actor,
            "Database": Database,
            "Settings": Settings,
            "Ledger": Ledger,
            "LogSigner": LogSigner,
            "WitnessService": WitnessService,
            "ItemService": ItemService,
            "ImportJobs": ImportJobs,
            "TransferService": TransferService,
            "DestructionService": DestructionService,
            "ReportService": ReportService,
            "TargetService": TargetService,
            "StockCheckService": StockCheckService,
            "LabelPrinting": LabelPrinting,
        },
    )


def _state(key: str) -> Any:
    def provide(request: Request[Any, Any, Any]) -> Any:
        return request.app.state[key]

    return provide


def _state_for_actor(key: str) -> Any:
    """A domain service, for handlers that act for a logged-in actor (every route but the public ones).

    It names ``actor`` as its own dependency only so that Litestar resolves a handler's dependencies one after
    another: it resolves independent ones side by side, each in a task of an anyio task group, which took about a
    tenth of a scan's time and extra turns of the event loop.
    """

    def provide(request: Request[Any, Any, Any], actor: NamedDependency[Actor]) -> Any:
        return request.app.state[key]

    return provide


def _actor(request: Request[Any, Any, Any]) -> Actor:
    return current_actor(request)


def _template_globals(engine: JinjaTemplateEngine, zone: dt.tzinfo) -> None:
    engine.engine.globals.update(roles=Role, main_menu=main_menu, TransferStatus=TransferStatus, StockCheckStatus=StockCheckStatus)
    # which weapons' record pages link to their trace (the items domain knows nothing of tracing)
    engine.engine.globals.update(traced_sources=frozenset(source.value for source in TRACED_SOURCES))
    # Times of the tables (UTC) as people there read them: `|local` names the zone, `|local_day` and `|local_clock`
    # are for places where the page names it.
    engine.engine.filters.update(
        local=lambda moment: local_time(moment, zone),
        local_day=lambda moment: local_day(moment, zone),
        local_clock=lambda moment: local_clock(moment, zone),
    )
    engine.engine.finalize = _shown


def _shown(value: Any) -> Any:
    """Every ``{{ … }}`` of every page: stored text with its hidden and direction characters written out."""
    if isinstance(value, Markup):
        return Markup(visible(str(value)))  # noqa: S704 (adds only "⟨U+…⟩", never markup, to markup already safe)
    return visible(value) if isinstance(value, str) else value


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Caliber",
        version="0.1.0",
        description="Custody of surplus small arms, light weapons and ammunition from intake to witnessed destruction.",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                css_url="/static/vendor/swagger-ui/swagger-ui.css",
                standalone_preset_js_url="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' href='/static/favicon.svg'>",
            ),
            ProblemDocumentedJson(),
        ],
        components=Components(security_schemes={"token": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"token": []}],
    )
