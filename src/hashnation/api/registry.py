"""HTTP API of the virtual-asset regulator's registry, under ``/api/v1``.

:func:`api_router` builds the routes over one
:class:`~hashnation.registry.service.Registry`. Each route parses its request,
makes one service call and formats the answer (:mod:`hashnation.api.schemas`):
who may do what is decided by the service, so the API, the web pages and the CLI
share the same rules. Routes are plain (sync) functions; FastAPI runs them in its
thread pool, and the registry's engine is made once, with the app.

Areas (OpenAPI tags):

``register`` (public)
    The public register, page by page, as CSV or JSON, and a firm's public record.
``firms``, ``applications``, ``returns``, ``enforcement``, ``sandbox`` (staff and firms)
    A firm reads and writes only its own; another firm's id answers ``404``, exactly
    as an id that does not exist. Staff read everything and take the regulator's
    actions.
``tokens``, ``audit`` (staff; the audit log's verification is public)
    API tokens, the hash-chained audit log and its verification.

Errors are JSON ``{"detail": "<one line>"}`` naming the field, the value and what
was expected: ``400`` bad input, ``401`` no token or a bad one (with
``WWW-Authenticate: Bearer``), ``403`` the caller's role may not do this, ``404`` no
such resource (or another firm's), ``409`` not allowed in the current status, ``422``
a periodic return that breaks its rules (or a request body of the wrong shape). A
broken audit log answers ``409`` with the first entry that does not verify.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes'
# annotations at run time, and they name the closure's dependency (``Caller``).
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator

from hashnation.api.auth import authenticated_dependency
from hashnation.api.schemas import (
    ActionIn,
    AdmitIn,
    ApplicationIn,
    ApplicationOut,
    AuditBrokenOut,
    AuditCheckOut,
    AuditEntryOut,
    AuditPage,
    CohortIn,
    CohortOut,
    DecisionOut,
    EnforcementIn,
    EnforcementOut,
    ErrorOut,
    ExitIn,
    FirmIn,
    FirmOut,
    FirmRecordOut,
    IssuedTokenOut,
    LateFilingOut,
    ParticipantOut,
    RegisterExportOut,
    RegisterPage,
    RegisterRowOut,
    ReturnOut,
    TokenIn,
    TokenOut,
    UsageIn,
    ValidationErrorOut,
    periodic_return_schema,
)
from hashnation.errors import AuditLogError, InputError, ReturnError
from hashnation.registry.licences import LicenceType
from hashnation.registry.register import register_csv, register_json
from hashnation.registry.returns import return_json_schema
from hashnation.registry.service import Principal, Registry
from hashnation.registry.workflow import Status

__all__ = ["API_PREFIX", "PUBLIC_SECURITY", "api_router"]

API_PREFIX: Final = "/api/v1"
"""Prefix of every route of the API."""

PUBLIC_SECURITY: Final[dict[str, Any]] = {"security": []}
"""OpenAPI ``security`` of the public routes: no token needed."""

M = TypeVar("M", bound=BaseModel)

_ISO_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """Let only ``YYYY-MM-DD`` text through (pydantic would read ``0`` as 1970-01-01)."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("expected a day as YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]
"""A day given in a query string: ``YYYY-MM-DD`` only."""

_MAX_REGISTER_PAGE: Final = 200
_MAX_PAGE: Final = 1_000
_MAX_OFFSET: Final = 2**31 - 1

_WHY: Final[Mapping[int, str]] = {
    400: "Bad input: the field, the value given and what was expected.",
    401: (
        "No token, or a token that is malformed, unknown or revoked "
        "(`WWW-Authenticate: Bearer` challenge)."
    ),
    403: "The caller's role may not do this.",
    404: "No such resource, or another firm's (the two cannot be told apart).",
    409: "The action is not allowed in the resource's current status.",
    422: (
        "The periodic return breaks its schema or rules: the first field at fault; or the "
        "request has the wrong shape (FastAPI's list of validation errors)."
    ),
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route may answer.

    A ``422`` is either the registry's one line or, for a request of the wrong shape
    (a path id that is not a number), FastAPI's list of validation errors.
    """
    return {
        code: {
            "model": ErrorOut | ValidationErrorOut if code == 422 else ErrorOut,
            "description": _WHY[code],
        }
        for code in codes
    }


_READ = _errors(400, 401, 403)
_READ_ONE = _errors(400, 401, 403, 404)
_WRITE = _errors(400, 401, 403, 404, 409)


async def _raw_json(request: Request) -> Any:
    """Read the request body as plain JSON, with no validation by FastAPI.

    A periodic return is validated by the registry only, so that a bad one is
    refused with one line naming the field, the value and what was expected.
    """
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        shown = body[:40].decode("utf-8", "replace")
        raise ReturnError("return", shown, "a JSON object of the return's fields") from None


def _return_body_doc() -> dict[str, Any]:
    """OpenAPI request body of a periodic return (its schema, documented only)."""
    return {
        "requestBody": {
            "required": True,
            "description": (
                "The return as a JSON object; `licence_type` may be left out (the "
                "licence's). Schema per licence type: GET /api/v1/returns/schema/{licence_type}."
            ),
            "content": {"application/json": {"schema": periodic_return_schema()}},
        }
    }


def _rows(views: Iterable[object], model: type[M]) -> list[M]:
    """Turn views (frozen dataclasses) into response models."""
    return [model.model_validate(view) for view in views]


def api_router(registry: Registry) -> APIRouter:
    """Build the registry API's routes over one registry.

    Parameters
    ----------
    registry
        The registry every route calls (its engine is shared by all requests).

    Returns
    -------
    APIRouter
        Routes under :data:`API_PREFIX`, tagged by area, each with its response
        model, its security requirement and the error codes it may answer.
    """
    router = APIRouter(prefix=API_PREFIX)
    caller = authenticated_dependency(registry)
    Caller = Annotated[Principal, Depends(caller)]  # noqa: N806 (a type alias)

    # ------------------------------------------------------------ public register

    @router.get(
        "/register",
        tags=["register"],
        summary="Search the public register",
        responses=_errors(400),
        openapi_extra=PUBLIC_SECURITY,
    )
    def search_register(
        q: Annotated[
            str | None, Query(max_length=200, description="Text in a name, number or LEI.")
        ] = None,
        licence_type: Annotated[LicenceType | None, Query()] = None,
        status: Annotated[
            Status | None, Query(description="A register status (licensed, suspended, ...).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=_MAX_REGISTER_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
    ) -> RegisterPage:
        """Licences on the public register (public statuses only), by entity name."""
        kind = None if licence_type is None else licence_type.value
        state = None if status is None else status.value
        rows = registry.register(
            query=q, licence_type=kind, status=state, limit=limit, offset=offset
        )
        total = registry.register_count(query=q, licence_type=kind, status=state)
        return RegisterPage(
            total=total, limit=limit, offset=offset, rows=_rows(rows, RegisterRowOut)
        )

    @router.get(
        "/register.csv",
        tags=["register"],
        summary="Download the whole register as CSV",
        response_class=Response,
        responses={
            200: {
                "description": (
                    "CSV (UTF-8, RFC 4180): a header of the register's columns, one "
                    "line per entry; dates ISO, lists joined by '; '."
                ),
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
        openapi_extra=PUBLIC_SECURITY,
    )
    def register_as_csv() -> Response:
        """Every entry of the public register, as an attachment ``register.csv``."""
        text = register_csv(registry.register(limit=None))
        return Response(
            content=text.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="register.csv"'},
        )

    @router.get(
        "/register.json",
        tags=["register"],
        summary="Download the whole register as JSON",
        response_model=RegisterExportOut,
        openapi_extra=PUBLIC_SECURITY,
    )
    def register_as_json() -> JSONResponse:
        """Every entry of the public register as one versioned JSON document."""
        return JSONResponse(register_json(registry.register(limit=None)))

    @router.get(
        "/register/{firm_id}",
        tags=["register"],
        summary="A firm's public record",
        responses=_errors(400, 404),
        openapi_extra=PUBLIC_SECURITY,
    )
    def firm_record(firm_id: int) -> FirmRecordOut:
        """Show a firm's licences on the register, their decisions and enforcement actions.

        Only licences in a public status appear; a firm with none answers ``404``.
        """
        return FirmRecordOut.model_validate(registry.firm_record(firm_id))

    # ------------------------------------------------------------ firms

    @router.post(
        "/firms", tags=["firms"], status_code=201, summary="Register a firm", responses=_READ
    )
    def register_firm(body: FirmIn, principal: Caller) -> FirmOut:
        """Register a firm (staff)."""
        return FirmOut.model_validate(
            registry.register_firm(
                principal,
                name=body.name,
                registration_number=body.registration_number,
                commercial_name=body.commercial_name,
                lei=body.lei,
                address=body.address,
                website=body.website,
            )
        )

    @router.get("/firms", tags=["firms"], summary="List firms", responses=_READ)
    def list_firms(
        principal: Caller,
        q: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=_MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
    ) -> list[FirmOut]:
        """Firms by name (staff: all; a firm: itself)."""
        return _rows(registry.list_firms(principal, query=q, limit=limit, offset=offset), FirmOut)

    @router.get("/firms/{firm_id}", tags=["firms"], summary="One firm", responses=_READ_ONE)
    def get_firm(firm_id: int, principal: Caller) -> FirmOut:
        """One firm (staff: any; a firm: itself, other firms answer ``404``)."""
        return FirmOut.model_validate(registry.get_firm(principal, firm_id))

    # ------------------------------------------------------------ applications

    @router.get(
        "/applications", tags=["applications"], summary="List applications", responses=_READ_ONE
    )
    def list_applications(
        principal: Caller,
        firm_id: int | None = None,
        status: Status | None = None,
        licence_type: LicenceType | None = None,
    ) -> list[ApplicationOut]:
        """Applications and licences, oldest first (staff: all; a firm: its own)."""
        views = registry.list_applications(
            principal,
            firm_id=firm_id,
            status=None if status is None else status.value,
            licence_type=None if licence_type is None else licence_type.value,
        )
        return _rows(views, ApplicationOut)

    @router.post(
        "/applications",
        tags=["applications"],
        status_code=201,
        summary="Open a licence application",
        responses=_READ_ONE,
    )
    def open_application(body: ApplicationIn, principal: Caller) -> ApplicationOut:
        """Open an application in ``draft`` (a firm for itself, or staff naming the firm)."""
        firm_id = body.firm_id if body.firm_id is not None else principal.firm_id
        if firm_id is None:
            raise InputError("firm_id", None, "the applying firm's id (staff must name it)")
        view = registry.open_application(
            principal,
            firm_id,
            body.licence_type,
            documents=body.documents,
            capital_usd=body.capital_usd,
        )
        return ApplicationOut.model_validate(view)

    @router.get(
        "/applications/{application_id}",
        tags=["applications"],
        summary="One application",
        responses=_READ_ONE,
    )
    def get_application(application_id: int, principal: Caller) -> ApplicationOut:
        """One application or licence (staff: any; a firm: its own)."""
        return ApplicationOut.model_validate(registry.get_application(principal, application_id))

    @router.post(
        "/applications/{application_id}/actions",
        tags=["applications"],
        summary="Take a workflow action",
        responses=_WRITE,
    )
    def act(application_id: int, body: ActionIn, principal: Caller) -> ApplicationOut:
        """Move an application or licence through its workflow.

        Firms submit, withdraw, provide information, appeal and surrender (their own);
        staff begin reviews, request information, approve (with conditions), refuse,
        grant licences, suspend, reinstate, revoke and decide appeals.
        """
        view = registry.act(
            principal,
            application_id,
            body.action,
            reason=body.reason,
            conditions=body.conditions,
        )
        return ApplicationOut.model_validate(view)

    @router.get(
        "/applications/{application_id}/decisions",
        tags=["applications"],
        summary="Decisions on an application",
        responses=_READ_ONE,
    )
    def list_decisions(application_id: int, principal: Caller) -> list[DecisionOut]:
        """List the workflow steps of an application, oldest first."""
        return _rows(registry.list_decisions(principal, application_id), DecisionOut)

    @router.get(
        "/queue", tags=["applications"], summary="Review queue", responses=_errors(401, 403)
    )
    def review_queue(principal: Caller) -> list[ApplicationOut]:
        """Applications waiting for staff, longest-waiting first (staff)."""
        return _rows(registry.review_queue(principal), ApplicationOut)

    # ------------------------------------------------------------ returns

    @router.post(
        "/applications/{application_id}/returns",
        tags=["returns"],
        status_code=201,
        summary="File a periodic return",
        responses=_errors(400, 401, 403, 404, 409, 422),
        openapi_extra=_return_body_doc(),
    )
    def file_return(
        application_id: int,
        principal: Caller,
        payload: Annotated[Any, Depends(_raw_json)],
    ) -> ReturnOut:
        """File a return under a licence (the licensed firm).

        The body is validated by the registry against the licence type's schema and
        rules; the first error answers ``422`` with one line naming the field, the
        value and what was expected, and nothing is stored. Filing a period again
        stores the next version.
        """
        return ReturnOut.model_validate(registry.file_return(principal, application_id, payload))

    @router.get("/returns", tags=["returns"], summary="List returns", responses=_READ_ONE)
    def list_returns(
        principal: Caller,
        application_id: int | None = None,
        firm_id: int | None = None,
        latest_only: bool = False,
    ) -> list[ReturnOut]:
        """List returns filed, by licence, period and version (staff: all; a firm: its own)."""
        views = registry.list_returns(
            principal, application_id=application_id, firm_id=firm_id, latest_only=latest_only
        )
        return _rows(views, ReturnOut)

    @router.get(
        "/returns/schema/{licence_type}",
        tags=["returns"],
        summary="JSON Schema of a return",
        responses=_errors(400),
        openapi_extra=PUBLIC_SECURITY,
    )
    def return_schema(licence_type: LicenceType) -> dict[str, Any]:
        """Give the JSON Schema (draft 2020-12) of a licence type's periodic return."""
        return return_json_schema(licence_type)

    @router.get("/returns/{return_id}", tags=["returns"], summary="One return", responses=_READ_ONE)
    def get_return(return_id: int, principal: Caller) -> ReturnOut:
        """One version of a return (staff: any; a firm: its own)."""
        return ReturnOut.model_validate(registry.get_return(principal, return_id))

    @router.get(
        "/late-filings", tags=["returns"], summary="Late and missing returns", responses=_READ
    )
    def late_filings(
        principal: Caller,
        as_of: Annotated[
            IsoDay | None, Query(description="Day to draw up, YYYY-MM-DD (today).")
        ] = None,
    ) -> list[LateFilingOut]:
        """List returns due and not filed, or filed late, as of a day (staff: all; a firm: own)."""
        day = as_of if as_of is not None else registry.now().date()
        return _rows(registry.late_filings(principal, day), LateFilingOut)

    # ------------------------------------------------------------ enforcement

    @router.post(
        "/applications/{application_id}/enforcement",
        tags=["enforcement"],
        status_code=201,
        summary="Take an enforcement action",
        responses=_WRITE,
    )
    def enforce(application_id: int, body: EnforcementIn, principal: Caller) -> EnforcementOut:
        """Warn, fine, suspend or revoke a licence (staff).

        A suspension or revocation also moves the licence, with its decision recorded.
        """
        view = registry.enforce(
            principal,
            application_id,
            body.kind,
            reason=body.reason,
            fine_usd=body.fine_usd,
            breach_codes=body.breach_codes,
        )
        return EnforcementOut.model_validate(view)

    @router.get(
        "/enforcement",
        tags=["enforcement"],
        summary="List enforcement actions",
        responses=_READ_ONE,
    )
    def list_enforcement(
        principal: Caller, application_id: int | None = None, firm_id: int | None = None
    ) -> list[EnforcementOut]:
        """Enforcement actions, oldest first (staff: all; a firm: its own)."""
        views = registry.list_enforcement(principal, application_id=application_id, firm_id=firm_id)
        return _rows(views, EnforcementOut)

    # ------------------------------------------------------------ sandbox

    @router.post(
        "/sandbox/cohorts",
        tags=["sandbox"],
        status_code=201,
        summary="Open a sandbox cohort",
        responses=_READ,
    )
    def create_cohort(body: CohortIn, principal: Caller) -> CohortOut:
        """Open a sandbox cohort with its caps (staff)."""
        view = registry.create_cohort(
            principal,
            code=body.code,
            name=body.name,
            opens_on=body.opens_on,
            max_customers=body.max_customers,
            max_volume_usd=body.max_volume_usd,
            max_duration_days=body.max_duration_days,
        )
        return CohortOut.model_validate(view)

    @router.get("/sandbox/cohorts", tags=["sandbox"], summary="List cohorts", responses=_READ)
    def list_cohorts(principal: Caller) -> list[CohortOut]:
        """Sandbox cohorts, oldest first (staff and firms)."""
        return _rows(registry.list_cohorts(principal), CohortOut)

    @router.post(
        "/sandbox/cohorts/{cohort_id}/participants",
        tags=["sandbox"],
        status_code=201,
        summary="Admit a firm to a cohort",
        responses=_READ_ONE,
    )
    def admit(cohort_id: int, body: AdmitIn, principal: Caller) -> ParticipantOut:
        """Admit a firm to a sandbox cohort (staff)."""
        view = registry.admit_to_sandbox(
            principal, cohort_id, body.firm_id, product=body.product, admitted_on=body.admitted_on
        )
        return ParticipantOut.model_validate(view)

    @router.get(
        "/sandbox/participants",
        tags=["sandbox"],
        summary="List sandbox participants",
        responses=_READ,
    )
    def list_participants(principal: Caller, cohort_id: int | None = None) -> list[ParticipantOut]:
        """Sandbox participants, oldest first (staff: all; a firm: its own)."""
        return _rows(registry.list_participants(principal, cohort_id=cohort_id), ParticipantOut)

    @router.get(
        "/sandbox/participants/{participant_id}",
        tags=["sandbox"],
        summary="One sandbox participant",
        responses=_READ_ONE,
    )
    def get_participant(participant_id: int, principal: Caller) -> ParticipantOut:
        """One participant, with the caps its latest usage breaches."""
        return ParticipantOut.model_validate(registry.get_participant(principal, participant_id))

    @router.post(
        "/sandbox/participants/{participant_id}/usage",
        tags=["sandbox"],
        summary="Report sandbox usage",
        responses=_WRITE,
    )
    def record_usage(participant_id: int, body: UsageIn, principal: Caller) -> ParticipantOut:
        """Report a participant's customers and volume (the firm itself, or staff)."""
        view = registry.record_sandbox_usage(
            principal,
            participant_id,
            customers=body.customers,
            volume_usd=body.volume_usd,
            as_of=body.as_of,
        )
        return ParticipantOut.model_validate(view)

    @router.post(
        "/sandbox/participants/{participant_id}/exit",
        tags=["sandbox"],
        summary="Graduate, extend or exit a participant",
        responses=_WRITE,
    )
    def decide_exit(participant_id: int, body: ExitIn, principal: Caller) -> ParticipantOut:
        """Decide how a participant leaves the sandbox, or extend its stay (staff)."""
        view = registry.decide_sandbox_exit(
            principal,
            participant_id,
            body.decision,
            reason=body.reason,
            extend_days=body.extend_days,
        )
        return ParticipantOut.model_validate(view)

    # ------------------------------------------------------------ tokens

    @router.post(
        "/tokens",
        tags=["tokens"],
        status_code=201,
        summary="Issue an API token",
        responses=_READ_ONE,
    )
    def issue_token(body: TokenIn, principal: Caller) -> IssuedTokenOut:
        """Issue a staff or firm token (staff); its text is shown this once."""
        token = registry.issue_token(
            principal, role=body.role, firm_id=body.firm_id, label=body.label
        )
        return IssuedTokenOut(
            token=token, role=body.role, firm_id=body.firm_id, label=body.label.strip()
        )

    @router.get("/tokens", tags=["tokens"], summary="List API tokens", responses=_READ)
    def list_tokens(principal: Caller, firm_id: int | None = None) -> list[TokenOut]:
        """Tokens issued, oldest first, never their text (staff)."""
        return _rows(registry.list_tokens(principal, firm_id=firm_id), TokenOut)

    @router.post(
        "/tokens/{token_id}/revoke",
        tags=["tokens"],
        summary="Revoke an API token",
        responses=_READ_ONE,
    )
    def revoke_token(token_id: int, principal: Caller) -> TokenOut:
        """Revoke a token (staff); it no longer authenticates."""
        return TokenOut.model_validate(registry.revoke_token(principal, token_id))

    # ------------------------------------------------------------ audit log

    @router.get(
        "/audit/verify",
        tags=["audit"],
        summary="Verify the audit log",
        response_model=AuditCheckOut,
        responses={
            **_errors(400),
            409: {
                "model": AuditBrokenOut,
                "description": (
                    "The log does not verify: `entry_id` is the first entry that was "
                    "edited, deleted or reordered (null when a published head hash is "
                    "not in the log)."
                ),
            },
        },
        openapi_extra=PUBLIC_SECURITY,
    )
    def verify_audit(
        expected_head: Annotated[
            str | None,
            Query(
                min_length=64,
                max_length=64,
                description="A head hash published earlier (64 hex digits).",
            ),
        ] = None,
    ) -> AuditCheckOut | JSONResponse:
        """Recompute the whole hash chain of the audit log (anyone).

        Answers the entry count and the head hash to publish, or ``409`` naming the
        first entry that does not verify.
        """
        try:
            check = registry.verify_audit(expected_head=expected_head)
        except AuditLogError as exc:
            body = AuditBrokenOut(detail=str(exc), entry_id=exc.entry_id)
            return JSONResponse(status_code=409, content=body.model_dump())
        return AuditCheckOut.model_validate(check)

    @router.get("/audit", tags=["audit"], summary="Read the audit log", responses=_READ)
    def audit_log(
        principal: Caller,
        subject: Annotated[
            str | None, Query(max_length=100, description="Only this subject (application:12).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=_MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0, le=_MAX_OFFSET)] = 0,
    ) -> AuditPage:
        """Audit log entries, newest first (staff)."""
        views = registry.audit_log(principal, subject=subject, limit=limit, offset=offset)
        return AuditPage(limit=limit, offset=offset, entries=_rows(views, AuditEntryOut))

    return router
