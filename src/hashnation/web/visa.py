"""The investor visa status page: an applicant looks up an application by reference.

``GET /visa/`` shows a lookup form; ``GET /visa/status?reference=HV-...`` shows the
application's status, its KYC status, and for each invoice the amount due (BTC and sat),
the address and payment URI, the validity, the confirmations required, what has been
received and what is still due, and every payment seen with its confirmations and its
outcome (accepted, partial, overpaid, refunded as a duplicate, late or expired). Nothing
personal (name, nationality) is shown: the reference is all the page needs.

Pages are rendered on the server with every value HTML-escaped, carry no script, and
share the register's page layout, style sheet and Content-Security-Policy
(:mod:`hashnation.web.register`); status pages are not cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hashnation.errors import InputError, NotFoundError
from hashnation.mining.htmlkit import escape
from hashnation.visa.rules import Outcome
from hashnation.visa.service import InvoiceView, StatusView, VisaProgramme
from hashnation.web.register import CONTENT_SECURITY_POLICY, html_response, page_html, when

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "OUTCOME_WORDS",
    "format_btc",
    "lookup_page",
    "status_page",
    "visa_page_router",
]

OUTCOME_WORDS: Final[Mapping[Outcome, str]] = {
    Outcome.PENDING: "waiting for confirmations",
    Outcome.PARTIAL: "received, less than the amount due: please pay the rest",
    Outcome.ACCEPTED: "accepted",
    Outcome.OVERPAID: "accepted; the excess will be refunded",
    Outcome.REFUND_DUPLICATE: "the invoice was already paid: refunded in full",
    Outcome.REFUND_LATE: "arrived after the invoice expired: refunded in full",
    Outcome.REFUND_EXPIRED: "the invoice expired unpaid: refunded in full",
}
"""Each payment outcome in the applicant's words."""

_STATUS_WORDS: Final[Mapping[str, str]] = {
    "applied": "application received",
    "awaiting_payment": "awaiting payment",
    "paid": "paid, awaiting decision",
    "approved": "approved",
    "refused": "refused",
}


def format_btc(amount_sat: int) -> str:
    """Write an amount in BTC with 8 decimals (``0.01000000 BTC``).

    Parameters
    ----------
    amount_sat
        Amount [sat].

    Returns
    -------
    str
        The amount in BTC.
    """
    sign = "-" if amount_sat < 0 else ""
    whole, frac = divmod(abs(amount_sat), 100_000_000)
    return f"{sign}{whole}.{frac:08d} BTC"


def _form(reference: str = "") -> str:
    return (
        '<form class="lookup" method="get" action="/visa/status">'
        '<label for="reference">Application reference</label> '
        f'<input id="reference" name="reference" value="{escape(reference)}" '
        'placeholder="HV-..." required maxlength="20"> '
        '<button type="submit">Look up</button></form>'
    )


def lookup_page(error: str = "", reference: str = "") -> str:
    """Render the lookup form, with an error line when a lookup failed.

    Parameters
    ----------
    error
        Message to show (escaped here), or empty.
    reference
        Reference to prefill.

    Returns
    -------
    str
        A complete HTML document.
    """
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    lead = "<p>Enter the reference you were given when you applied.</p>"
    return page_html(
        "Investor visa: application status", lead + message + _form(reference), section="visa"
    )


def _invoice_html(invoice: InvoiceView, number: int) -> str:
    payments = "".join(
        "<tr>"
        f'<td class="address">{escape(p.txid)}:{p.vout}</td>'
        f'<td class="num">{escape(format_btc(p.value_sat))}</td>'
        f'<td class="num">{p.confirmations}</td>'
        f"<td>{escape(OUTCOME_WORDS[p.outcome])}</td>"
        f'<td class="num">{escape(format_btc(p.refund_sat)) if p.refund_sat else ""}</td>'
        "</tr>"
        for p in invoice.payments
    )
    table = (
        "<table><thead><tr><th>Payment</th><th>Amount</th><th>Confirmations</th>"
        f"<th>Outcome</th><th>To refund</th></tr></thead><tbody>{payments}</tbody></table>"
        if invoice.payments
        else "<p>No payment seen yet.</p>"
    )
    facts = [
        ("Status", invoice.status.value.replace("_", " ")),
        ("Amount due", f"{format_btc(invoice.amount_sat)} ({invoice.amount_sat:,} sat)"),
        ("Pay to", invoice.address),
        ("Payment URI", invoice.uri),
        ("Valid until", when(invoice.expires_at)),
        ("Confirmations required", str(invoice.confirmations_required)),
        ("Received", f"{format_btc(invoice.received_sat)}"),
        ("Still due", f"{format_btc(invoice.shortfall_sat)}"),
    ]
    rows = "".join(
        f"<dt>{escape(k)}</dt><dd{' class=address' if k in ('Pay to', 'Payment URI') else ''}>"
        f"{escape(v)}</dd>"
        for k, v in facts
    )
    return (
        f'<section class="invoice" id="invoice-{number}"><h2>Invoice {number}</h2>'
        f'<dl class="facts">{rows}</dl>{table}</section>'
    )


def status_page(view: StatusView) -> str:
    """Render an application's status page.

    Parameters
    ----------
    view
        The application and its invoices.

    Returns
    -------
    str
        A complete HTML document (no personal data).
    """
    app = view.application
    facts = (
        '<dl class="facts">'
        f"<dt>Reference</dt><dd>{escape(app.reference)}</dd>"
        f'<dt>Status</dt><dd><span class="status" id="status">'
        f"{escape(_STATUS_WORDS.get(app.status, app.status))}</span></dd>"
        f"<dt>KYC checks</dt><dd>{escape(app.kyc_status)}</dd>"
        f"<dt>Since</dt><dd>{escape(when(app.status_since))}</dd>"
        "</dl>"
    )
    invoices = "".join(
        _invoice_html(invoice, number) for number, invoice in enumerate(view.invoices, 1)
    )
    if not view.invoices:
        invoices = "<p>No invoice yet: it is issued once the KYC checks are cleared.</p>"
    return page_html(f"Investor visa {app.reference}", facts + invoices + _form(), section="visa")


def _respond(html: str, status_code: int = 200) -> HTMLResponse:
    return html_response(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def visa_page_router(programme: VisaProgramme) -> APIRouter:
    """Build the status page's routes.

    Parameters
    ----------
    programme
        The programme read.

    Returns
    -------
    APIRouter
        ``GET /visa/`` and ``GET /visa/status``.
    """
    router = APIRouter(prefix="/visa", include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def lookup() -> HTMLResponse:
        return _respond(lookup_page())

    @router.get("/status", response_class=HTMLResponse)
    def status(reference: str = "") -> HTMLResponse:
        try:
            view = programme.status(reference[:40])
        except (NotFoundError, InputError) as exc:
            return _respond(lookup_page(str(exc), reference[:40]), 404)
        return _respond(status_page(view))

    return router
