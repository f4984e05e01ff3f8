"""The visa programme end to end on a regtest chain the tests mine (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from btclib_wallet.psbt import Psbt

from hashnation.chain import EsploraSource
from hashnation.chain.scripts import address_to_script
from hashnation.errors import InputError, NotFoundError, PrivateKeyError, TransitionError
from hashnation.reserve import ledger
from hashnation.store.db import session_scope
from hashnation.store.models import JournalEntry
from hashnation.visa.rules import InvoiceState, Outcome
from hashnation.visa.service import RefundView

from .conftest import FEE_SAT, PRICE, TOLERANCE_SAT, Harness, esplora_server, late


def _outputs(view: RefundView) -> list[tuple[bytes, int]]:
    psbt = Psbt.b64decode(view.psbt_base64) if hasattr(Psbt, "b64decode") else None
    if psbt is None:
        psbt = Psbt.parse(base64.b64decode(view.psbt_base64))
    return [(bytes(out.script_pub_key.script), int(out.value)) for out in psbt.tx.vout]


def _paid_flow(harness: Harness, reference: str, amount_sat: int) -> str:
    invoice = harness.programme.issue_invoice(reference)
    txid = harness.pay(invoice.address, amount_sat)
    harness.mine(2)  # 3 confirmations
    harness.scan()
    return txid


def test_exact_payment_is_accepted_and_recorded_in_the_ledger(
    harness: Harness, cleared: Callable[..., str], db_url: str
) -> None:
    reference = cleared()
    txid = _paid_flow(harness, reference, FEE_SAT)
    status = harness.programme.status(reference)
    invoice = status.invoices[-1]
    assert status.application.status == "paid"
    assert invoice.status is InvoiceState.PAID
    assert invoice.paid_txid == txid
    assert [p.outcome for p in invoice.payments] == [Outcome.ACCEPTED]
    assert invoice.payments[0].payer_address == harness.payer_address
    with session_scope(db_url) as session:
        entry = session.get(JournalEntry, invoice.ledger_entry_id)
        assert entry is not None
        assert entry.kind == "visa_payment"
        assert entry.evidence == {"application_id": reference, "txid": txid}
        amounts = sorted(p.amount_sat for p in entry.postings)
        assert amounts == [-FEE_SAT, FEE_SAT]
        assert ledger.balance(session, "visa-custody") == FEE_SAT
        values = {p.value_usd for p in entry.postings}
        assert values == {Decimal("600.00"), Decimal("-600.00")}  # 0.01 BTC at 60,000
    harness.programme.approve(reference)
    assert harness.programme.status(reference).application.status == "approved"


def test_payment_not_counted_before_the_confirmation_depth(
    harness: Harness, cleared: Callable[..., str]
) -> None:
    reference = cleared()
    invoice = harness.programme.issue_invoice(reference)
    harness.pay(invoice.address, FEE_SAT)
    harness.mine(1)  # 2 confirmations of 3
    harness.scan()
    seen = harness.programme.status(reference).invoices[-1]
    assert seen.status is InvoiceState.AWAITING_PAYMENT
    assert [(p.outcome, p.confirmations) for p in seen.payments] == [(Outcome.PENDING, 2)]
    with pytest.raises(TransitionError, match="expected paid"):
        harness.programme.approve(reference)
    harness.mine(1)
    harness.scan()
    assert harness.programme.status(reference).invoices[-1].status is InvoiceState.PAID


def test_underpayment_waits_with_the_shortfall_then_a_top_up_pays(
    harness: Harness, cleared: Callable[..., str]
) -> None:
    reference = cleared()
    invoice = harness.programme.issue_invoice(reference)
    harness.pay(invoice.address, 600_000)
    harness.mine(2)
    harness.scan()
    seen = harness.programme.status(reference).invoices[-1]
    assert seen.status is InvoiceState.AWAITING_PAYMENT
    assert seen.shortfall_sat == 400_000
    assert [p.outcome for p in seen.payments] == [Outcome.PARTIAL]
    harness.pay(invoice.address, 400_000 - TOLERANCE_SAT)  # within the tolerance
    harness.mine(2)
    harness.scan()
    seen = harness.programme.status(reference).invoices[-1]
    assert seen.status is InvoiceState.PAID
    assert [p.outcome for p in seen.payments] == [Outcome.PARTIAL, Outcome.ACCEPTED]
    assert sum(p.refund_sat for p in seen.payments) == 0


def test_underpayment_refunded_in_full_when_the_invoice_expires(
    harness: Harness, cleared: Callable[..., str], db_url: str
) -> None:
    reference = cleared()
    invoice = harness.programme.issue_invoice(reference)
    harness.pay(invoice.address, 300_000)
    harness.mine(2)
    late(harness, 3)  # validity is 2 h
    result = harness.scan()
    assert result.expired == (reference,)
    status = harness.programme.status(reference)
    assert status.application.status == "applied"  # a new invoice may be issued
    assert status.invoices[-1].status is InvoiceState.EXPIRED
    assert [p.outcome for p in status.invoices[-1].payments] == [Outcome.REFUND_EXPIRED]
    (refund,) = harness.programme.refund(reference, fee_rate_sat_per_vb=2)
    assert refund.refund_sat == 300_000
    outputs = _outputs(refund)
    assert outputs == [(address_to_script(harness.payer_address), 300_000 - refund.fee_sat)]
    assert 0 < refund.fee_sat < 1_000
    with session_scope(db_url) as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
        assert count == 0  # nothing kept, nothing in the ledger
    assert harness.programme.refund(reference) == []  # built once
    again = harness.programme.issue_invoice(reference)
    assert again.index == invoice.index + 1


def test_overpayment_accepted_and_the_excess_refunded(
    harness: Harness, cleared: Callable[..., str], db_url: str
) -> None:
    reference = cleared()
    _paid_flow(harness, reference, FEE_SAT + 250_000)
    invoice = harness.programme.status(reference).invoices[-1]
    assert invoice.status is InvoiceState.PAID
    (payment,) = invoice.payments
    assert (payment.outcome, payment.kept_sat, payment.refund_sat) == (
        Outcome.OVERPAID,
        FEE_SAT,
        250_000,
    )
    with session_scope(db_url) as session:
        assert ledger.balance(session, "visa-custody") == FEE_SAT
    (refund,) = harness.programme.refund(reference, fee_rate_sat_per_vb=1)
    outputs = _outputs(refund)
    payer = address_to_script(harness.payer_address)
    assert (payer, 250_000 - refund.fee_sat) in outputs
    change = [value for script, value in outputs if script != payer]
    assert change == [FEE_SAT]  # the fee stays with the programme (change branch)
    assert refund.amount_sat + refund.fee_sat + FEE_SAT == FEE_SAT + 250_000


def test_second_payment_refunded_in_full(harness: Harness, cleared: Callable[..., str]) -> None:
    reference = cleared()
    _paid_flow(harness, reference, FEE_SAT)
    address = harness.programme.status(reference).invoices[-1].address
    harness.pay(address, FEE_SAT)
    harness.mine(2)
    harness.scan()
    invoice = harness.programme.status(reference).invoices[-1]
    assert [p.outcome for p in invoice.payments] == [Outcome.ACCEPTED, Outcome.REFUND_DUPLICATE]
    (refund,) = harness.programme.refund(reference)
    assert refund.refund_sat == FEE_SAT
    assert _outputs(refund) == [(address_to_script(harness.payer_address), refund.amount_sat)]


def test_payment_after_expiry_refunded_and_application_not_advanced(
    harness: Harness, cleared: Callable[..., str]
) -> None:
    reference = cleared()
    invoice = harness.programme.issue_invoice(reference)
    harness.mine(15)  # blocks every 600 s: past the 2 h validity
    harness.pay(invoice.address, FEE_SAT)
    harness.mine(2)
    late(harness, 4)
    harness.scan()
    status = harness.programme.status(reference)
    assert status.application.status == "applied"
    assert status.invoices[-1].status is InvoiceState.EXPIRED
    assert [p.outcome for p in status.invoices[-1].payments] == [Outcome.REFUND_LATE]
    with pytest.raises(TransitionError):
        harness.programme.approve(reference)
    (refund,) = harness.programme.refund(reference)
    assert refund.destination == harness.payer_address


def test_refund_goes_to_the_refund_address_when_given(
    harness: Harness, cleared: Callable[..., str]
) -> None:
    own = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
    reference = cleared(refund_address=own)
    _paid_flow(harness, reference, FEE_SAT + 50_000)
    (refund,) = harness.programme.refund(reference)
    assert refund.destination == own


def test_kyc_gates_the_invoice(harness: Harness) -> None:
    view = harness.programme.apply(applicant_name="B. Investor", nationality="GB")
    with pytest.raises(TransitionError, match="KYC pending"):
        harness.programme.issue_invoice(view.reference)
    refused = harness.programme.set_kyc(view.reference, "rejected")
    assert refused.status == "refused"
    with pytest.raises(TransitionError, match="KYC rejected"):
        harness.programme.issue_invoice(view.reference)
    with pytest.raises(InputError, match="kyc_status"):
        harness.programme.set_kyc(view.reference, "maybe")


def test_quota_per_calendar_year(harness: Harness, cleared: Callable[..., str]) -> None:
    references = [cleared() for _ in range(3)]
    for reference in references:
        _paid_flow(harness, reference, FEE_SAT)
    harness.programme.approve(references[0])
    harness.programme.approve(references[1])
    with pytest.raises(TransitionError, match="quota is 2"):
        harness.programme.approve(references[2])
    late(harness, 24 * 60)  # next calendar year
    assert harness.programme.approve(references[2]).approved_year == 2024


def test_addresses_never_reused(harness: Harness, cleared: Callable[..., str]) -> None:
    invoices = []
    for _ in range(5):
        reference = cleared()
        invoices.append(harness.programme.issue_invoice(reference))
    assert [i.index for i in invoices] == list(range(5))
    assert len({i.address for i in invoices}) == 5
    with pytest.raises(TransitionError, match="expected applied"):
        harness.programme.issue_invoice(invoices[0].reference)


def test_unknown_reference_and_private_keys_refused(harness: Harness) -> None:
    with pytest.raises(NotFoundError):
        harness.programme.status("HV-NOPE")
    xprv = (
        "tprv8ZgxMBicQKsPd9TeAdPADNnSyH9SSUUbTVeFszDE23Ki6TBB5nCefAdHkK8Fm3qMQR6sHwA56zqRmKmx"
        "nHKMF7KmkTT4ViDZWSJQmsgyyms"
    )
    with pytest.raises(PrivateKeyError):
        harness.programme.configure(f"wpkh({xprv}/<0;1>/*)", harness.programme.programme().rules)


def test_payment_flow_over_esplora_http(harness: Harness, cleared: Callable[..., str]) -> None:
    reference = cleared()
    invoice = harness.programme.issue_invoice(reference)
    with esplora_server(harness.chain) as url:
        source = EsploraSource(url)
        harness.pay(invoice.address, FEE_SAT + 100_000)
        harness.mine(1)
        harness.scan(source)
        assert harness.programme.status(reference).invoices[-1].status is (
            InvoiceState.AWAITING_PAYMENT
        )
        harness.mine(1)
        result = harness.scan(source)
    assert result.paid == (reference,)
    status = harness.programme.status(reference)
    (payment,) = status.invoices[-1].payments
    assert payment.outcome is Outcome.OVERPAID
    assert payment.payer_address == harness.payer_address
    assert status.invoices[-1].price_usd_per_btc == PRICE
