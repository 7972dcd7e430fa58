"""What every page and API route shares: rendering, form reading, and errors mapped to HTTP.

This module is the one place where Caliber's errors become HTTP answers:
``application/problem+json`` (RFC 9457) under ``/api``, a page elsewhere.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, get_args, get_origin
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Operation
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from caliber.errors import (
    CaliberError,
    FieldError,
    InvalidInput,
    NotAuthenticated,
    StorageFull,
    TooManyAttempts,
    Unavailable,
    is_disk_full,
)
from caliber.forms import decode, refusal
from caliber.ledger.signer import ForkRefused

__all__ = [
    "ProblemDocumentedJson",
    "csv_cell",
    "csv_stream",
    "exception_handlers",
    "file_formats",
    "form_data",
    "form_uuid",
    "page",
    "safe_next",
]

log = logging.getLogger("caliber")


def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    """Render ``template`` with the current actor and request in its context.

    An ``error`` given as the exception itself is shown by ``_problems.html``: its message, or each field it refused
    in a summary at the top (``field_errors`` in order) and beside the field (the macros of ``_fields.html``).
    """
    error = context.get("error")
    if isinstance(error, CaliberError):
        context["error"] = error.message
        context["field_errors"] = {e.field: e.message for e in getattr(error, "errors", [])}
    elif error and context.get("error_field"):  # a message already read out of its error, with the field it names
        context.setdefault("field_errors", {context["error_field"]: error})
    context.setdefault("field_errors", {})
    context.setdefault("actor", request.scope.get("user"))
    context.setdefault("request", request)
    return Template(template_name=template, context=context, status_code=status_code)


async def form_data(request: Request[Any, Any, Any], *lists: str) -> dict[str, Any]:
    """A submitted form as a dict; fields named in ``lists`` keep every value, others their last.

    Line breaks are ``\\n``: a browser sends a textarea's as CR LF (HTML's form encoding), which a form shown
    again would otherwise write out as ``⟨U+000D⟩``.
    """
    form = await request.form()
    data: dict[str, Any] = {key: _lines(value) for key, value in form.items() if key not in lists and key != "_csrf_token"}
    for key in lists:
        data[key] = [_lines(value) for value in form.getall(key, []) if value]
    return data


def _lines(value: Any) -> Any:
    """A form value with its CR LF line breaks as ``\\n`` (files and other values as they are)."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def form_uuid(value: Any, field: str) -> UUID:
    """A form's id field as a UUID, or :class:`InvalidInput` asking to choose one."""
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput(f"choose the {field.replace('_id', '').replace('_', ' ')}", field=field) from None


def csv_cell(value: Any) -> Any:
    """A value for a CSV download that a spreadsheet will show, never run: text starting ``= + - @`` gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return value


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in {"/ready", "/health"}


def _problem(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type="application/problem+json")


def _answer(request: Request[Any, Any, Any], status: int, title: str, detail: str, **extra: Any) -> Response[Any]:
    if _is_api(request):
        return _problem(status, title, detail, **extra)
    return page(request, "site/error.html", status_code=status, title=title, detail=detail)


def _caliber_error(request: Request[Any, Any, Any], exc: CaliberError) -> Response[Any]:
    if isinstance(exc, NotAuthenticated) and not _is_api(request):
        return Redirect(f"/login?next={quote(request.url.path)}")
    response = _answer(request, exc.status_code, exc.title, exc.message, **_fields_refused(exc))
    if isinstance(exc, TooManyAttempts | Unavailable):
        response.headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, NotAuthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="caliber"'
    return response


def _fields_refused(exc: CaliberError) -> dict[str, Any]:
    """The ``field`` and ``errors`` (``{field, message}`` each, in plain words) of a problem answer for ``exc``."""
    extra: dict[str, Any] = {}
    if field := getattr(exc, "field", None):
        extra["field"] = field
    if errors := getattr(exc, "errors", None):
        extra["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return extra


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 403 and "CSRF" in str(exc.detail):
        detail = "the form had expired or came from another site: reload the page and send it again"
        return _answer(request, 403, "Form expired", detail)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        if (refused := _body_refused(request, exc)) is not None:  # still a 400: the body does not fit its schema
            return _answer(request, 400, "Bad request", refused.message, **_fields_refused(refused))
        extra["errors"] = exc.extra
    title = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(exc.status_code, "Error")
    return _answer(request, exc.status_code, title, str(exc.detail), **extra)


def _body_refused(request: Request[Any, Any, Any], exc: ValidationException) -> InvalidInput | None:
    """A request body the handler's struct refused, read again field by field (:func:`caliber.forms.decode`) so the
    answer lists every field in plain words; ``None`` when the refusal was not of the body."""
    if not isinstance(exc.extra, list) or not any(isinstance(e, dict) and e.get("source") == "body" for e in exc.extra):
        return None
    body = ScopeState.from_scope(request.scope).body
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None or not isinstance(body, bytes):
        return None
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    schema, elements = data.annotation, list[tuple[int | None, Any]]([(None, decoded)])
    if get_origin(schema) is list and isinstance(decoded, list):
        (schema,), elements = get_args(schema), list(enumerate(decoded))
    errors: list[FieldError] = []
    for position, element in elements:
        try:
            decode(element, schema)
        except InvalidInput as refused:
            if position is None:
                return refused
            errors += [FieldError(f"[{position}].{e.field}", f"Record {position + 1}: {e.message}") for e in refused.errors]
    return refusal(errors) if errors else None


def _database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if isinstance(exc, IntegrityError):
        return _answer(request, 409, "Conflict", "the change conflicts with an existing record")
    if is_disk_full(exc):
        return _storage_full(request, exc)
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.warning("database unavailable: %s", exc.orig)
        return _caliber_error(request, Unavailable())
    return _unexpected(request, exc)


def _storage_full(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.critical("disk full on %s %s: %s", request.method, request.url.path, exc)
    return _caliber_error(request, StorageFull())


def _os_error(request: Request[Any, Any, Any], exc: OSError) -> Response[Any]:
    return _storage_full(request, exc) if is_disk_full(exc) else _unexpected(request, exc)


def _fork_refused(request: Request[Any, Any, Any], exc: ForkRefused) -> Response[Any]:
    log.critical("checkpoint refused: %s", exc)
    return _answer(request, HTTP_503_SERVICE_UNAVAILABLE, "Ledger signing refused", str(exc))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _answer(request, HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "something went wrong on the server; it has been logged")


exception_handlers: ExceptionHandlersMap = {
    CaliberError: _caliber_error,
    HTTPException: _http_error,
    DBAPIError: _database_error,
    OSError: _os_error,
    ForkRefused: _fork_refused,
    Exception: _unexpected,
}


PROBLEM = "application/problem+json"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error as RFC 9457 problem details; ``errors`` lists the fields a validation refused.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def file_formats(*media_types: str) -> type[Operation]:
    """The ``operation_class`` of a handler that answers with a file in one of ``media_types`` (documented as such)."""

    @dataclass
    class FileOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            return {**super().to_schema(), "x-media-types": list(media_types)}

    return FileOperation


class ProblemDocumentedJson(JsonRenderPlugin):
    """``/schema/openapi.json`` with every error answer documented as Caliber sends it (``application/problem+json``), and
    the success answers of file handlers (:func:`file_formats`) in their formats."""

    def __init__(self) -> None:
        super().__init__()
        self._documented: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The schema, its error answers rewritten once."""
        if self._documented is None:
            self._documented = _problems_documented(openapi_schema)
        return self.render_json(request, self._documented)


def _problems_documented(openapi_schema: dict[str, Any]) -> dict[str, Any]:
    documented = copy.deepcopy(openapi_schema)
    documented.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for item in documented.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                if not (status.isdigit() and isinstance(answer, dict)):
                    continue
                if int(status) >= 400:
                    answer["content"] = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                elif media_types := operation.get("x-media-types"):  # a handler that answers in several file formats
                    answer["content"] = {media: {"schema": {"type": "string", "format": "binary"}} for media in media_types}
    return documented


def csv_stream(rows: AsyncIterator[str], name: str) -> Stream:
    """A CSV download."""
    return Stream(rows, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})
