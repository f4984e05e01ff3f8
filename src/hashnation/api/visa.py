"""HTTP API of the investor-residency visa programme, under ``/api/v1/visa``.

:func:`visa_router` builds the routes over one
:class:`~hashnation.visa.service.VisaProgramme`. Each route parses its request, makes one
service call and formats the answer.

``GET /api/v1/visa/applications/{reference}`` (public)
    An application's status: its invoices (address, amount, validity), the payments
    seen with their confirmations and outcomes, and refunds built. The reference is
    what the applicant was given; nothing personal is returned to the public.
Staff only (``Authorization: Bearer <staff token>`` issued by the registry)
    ``GET /applications`` lists them; ``POST /applications`` opens one;
    ``POST .../kyc``, ``.../invoice``, ``.../approve`` and ``.../refunds`` take the
    programme's steps. Payment detection (``hashnation visa scan``) needs a chain
    source and runs from the command line.

Errors are JSON ``{"detail": "<one line>"}``: ``400`` bad input, ``401`` no token or a bad
one, ``403`` not staff, ``404`` no such application (or no programme), ``409`` a step the
application's status (or the year's quota) does not allow.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes'
# annotations at run time.
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from hashnation.api.auth import BEARER, unauthorized
from hashnation.api.schemas import ErrorOut
from hashnation.errors import AccessError
from hashnation.registry.service import Principal, require_role
from hashnation.visa.service import (
    ApplicationView,
    InvoiceView,
    PaymentView,
    RefundView,
    StatusView,
    VisaProgramme,
)

__all__ = ["VISA_PREFIX", "visa_router"]

VISA_PREFIX: Final = "/api/v1/visa"
"""Prefix of every route of the visa API."""

_PUBLIC: Final[dict[str, Any]] = {"security": []}

_WHY: Final[dict[int, str]] = {
    400: "Bad input: the field, the value given and what was expected.",
    401: "No token, or a token that is malformed, unknown or revoked.",
    403: "The token is not a staff token.",
    404: "No such application (or no programme).",
    409: "A step the application's status (or the year's quota) does not allow.",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route may answer."""
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in codes}


_STAFF_STEP: Final = _errors(400, 401, 403, 404, 409)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class VisaApplicationOut(_Out):
    """An application (staff view)."""

    reference: str
    applicant_name: str
    nationality: str
    refund_address: str | None
    kyc_status: str
    status: str
    created_at: datetime
    status_since: datetime
    approved_year: int | None


class VisaPaymentOut(_Out):
    """A payment to an invoice's address; amounts in sat."""

    txid: str
    vout: int
    value_sat: int
    height: int
    block_time: datetime
    confirmations: int
    outcome: str
    kept_sat: int
    refund_sat: int
    refund_spend_id: str | None


class VisaInvoiceOut(_Out):
    """An invoice; amounts in sat, price in USD/BTC."""

    index: int
    address: str
    uri: str
    amount_sat: int
    price_usd_per_btc: Decimal
    issued_at: datetime
    expires_at: datetime
    status: str
    received_sat: int
    shortfall_sat: int
    confirmations_required: int
    scanned_height: int | None
    paid_txid: str | None
    payments: list[VisaPaymentOut]


class VisaStatusOut(BaseModel):
    """What the applicant sees: status, KYC, invoices and payments."""

    reference: str
    status: str
    kyc_status: str
    invoices: list[VisaInvoiceOut]


class VisaRefundOut(_Out):
    """A refund as an unsigned PSBT (base64); amounts in sat."""

    reference: str
    txid: str
    vout: int
    refund_sat: int
    amount_sat: int
    fee_sat: int
    destination: str
    psbt_base64: str
    spend_id: str


class VisaApplyIn(BaseModel):
    """A new application."""

    applicant_name: str = Field(min_length=1, max_length=200)
    nationality: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    refund_address: str | None = Field(
        default=None, max_length=100, description="Where refunds go (else the payer's)."
    )


class VisaKycIn(BaseModel):
    """A KYC outcome: pending, cleared or rejected."""

    status: str


class VisaRefundIn(BaseModel):
    """Fee rate of the refunds [sat/vB]."""

    fee_rate_sat_per_vb: float = 2.0


def _payment(view: PaymentView) -> VisaPaymentOut:
    return VisaPaymentOut.model_validate(view)


def _invoice(view: InvoiceView) -> VisaInvoiceOut:
    return VisaInvoiceOut(
        index=view.index,
        address=view.address,
        uri=view.uri,
        amount_sat=view.amount_sat,
        price_usd_per_btc=view.price_usd_per_btc,
        issued_at=view.issued_at,
        expires_at=view.expires_at,
        status=view.status.value,
        received_sat=view.received_sat,
        shortfall_sat=view.shortfall_sat,
        confirmations_required=view.confirmations_required,
        scanned_height=view.scanned_height,
        paid_txid=view.paid_txid,
        payments=[_payment(p) for p in view.payments],
    )


def _status(view: StatusView) -> VisaStatusOut:
    return VisaStatusOut(
        reference=view.application.reference,
        status=view.application.status,
        kyc_status=view.application.kyc_status,
        invoices=[_invoice(i) for i in view.invoices],
    )


def _application(view: ApplicationView) -> VisaApplicationOut:
    return VisaApplicationOut.model_validate(view)


def _refund(view: RefundView) -> VisaRefundOut:
    return VisaRefundOut.model_validate(view)


def visa_router(programme: VisaProgramme) -> APIRouter:
    """Build the visa API's routes over one programme.

    Parameters
    ----------
    programme
        The programme every route calls; its database also holds the registry's API
        tokens, which authenticate staff.

    Returns
    -------
    APIRouter
        Routes under :data:`VISA_PREFIX`, tagged ``visa``.
    """
    router = APIRouter(prefix=VISA_PREFIX, tags=["visa"])

    def staff(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> Principal:
        if request.headers.get("authorization") is None:
            raise unauthorized(
                "authorization: no token, expected 'Bearer <token>' (a staff API token)",
                invalid_token=False,
            )
        if credentials is None:
            raise unauthorized(
                "authorization: not a bearer token, expected 'Bearer <token>'",
                invalid_token=True,
            )
        try:
            principal = programme.authenticate(credentials.credentials)
        except AccessError as exc:
            raise unauthorized(str(exc), invalid_token=True) from None
        require_role(principal, ("staff",), "run the visa programme")
        return principal

    Staff = Annotated[Principal, Depends(staff)]  # noqa: N806 (a type alias)

    @router.get(
        "/applications/{reference}",
        summary="An application's status (public, by reference)",
        openapi_extra=_PUBLIC,
        responses=_errors(400, 404),
    )
    def application_status(reference: str) -> VisaStatusOut:
        """Invoices, payments with confirmations and outcomes, and refunds."""
        return _status(programme.status(reference))

    @router.get("/applications", summary="List applications (staff)", responses=_STAFF_STEP)
    def list_applications(_: Staff, status: str | None = None) -> list[VisaApplicationOut]:
        """Applications, oldest first."""
        return [_application(v) for v in programme.list_applications(status=status)]

    @router.post(
        "/applications",
        status_code=201,
        summary="Open an application (staff)",
        responses=_STAFF_STEP,
    )
    def apply(body: VisaApplyIn, _: Staff) -> VisaApplicationOut:
        """Open an application with KYC pending."""
        return _application(
            programme.apply(
                applicant_name=body.applicant_name,
                nationality=body.nationality,
                refund_address=body.refund_address,
            )
        )

    @router.post(
        "/applications/{reference}/kyc", summary="Record KYC (staff)", responses=_STAFF_STEP
    )
    def kyc(reference: str, body: VisaKycIn, _: Staff) -> VisaApplicationOut:
        """Set the KYC status: pending, cleared or rejected."""
        return _application(programme.set_kyc(reference, body.status))

    @router.post(
        "/applications/{reference}/invoice",
        status_code=201,
        summary="Issue an invoice (staff)",
        responses=_STAFF_STEP,
    )
    def invoice(reference: str, _: Staff) -> VisaInvoiceOut:
        """Issue the BTC invoice (KYC must be cleared)."""
        return _invoice(programme.issue_invoice(reference))

    @router.post(
        "/applications/{reference}/approve", summary="Approve (staff)", responses=_STAFF_STEP
    )
    def approve(reference: str, _: Staff) -> VisaApplicationOut:
        """Approve a paid application within the year's quota."""
        return _application(programme.approve(reference))

    @router.post(
        "/applications/{reference}/refunds",
        summary="Build refund PSBTs (staff)",
        responses=_STAFF_STEP,
    )
    def refunds(reference: str, body: VisaRefundIn, _: Staff) -> list[VisaRefundOut]:
        """Build an unsigned PSBT for every payment owed back and not yet refunded."""
        return [
            _refund(v)
            for v in programme.refund(reference, fee_rate_sat_per_vb=body.fee_rate_sat_per_vb)
        ]

    return router
