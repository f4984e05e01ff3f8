"""The visa service: applications, KYC, BTC invoices, payment detection, approval, refunds.

:class:`VisaProgramme` is the one orchestrating object of the investor-residency visa
programme. It stores what the pure rules decide (:mod:`hashnation.visa.rules`), derives
invoice addresses from the programme's watch-only descriptor
(:mod:`hashnation.visa.invoices`), detects payments through any
:class:`~hashnation.chain.base.ChainSource` with SPV checks
(:func:`~hashnation.chain.holdings.utxos_at`), records the fees in the reserve ledger
(``visa_payment`` entries, :mod:`hashnation.reserve.ledger`) and builds refunds as
unsigned PSBTs (:func:`~hashnation.reserve.custody.build_spend`). It never sees a
private key.

Life of an application::

    applied --(KYC cleared, invoice issued)--> awaiting_payment --(paid, N confs)--> paid
    paid --(approve, within the yearly quota)--> approved
    applied --(KYC rejected)--> refused
    awaiting_payment --(invoice expired unpaid)--> applied   (a new invoice may be issued)

Every public method runs in one transaction of its own, with the programme's row locked
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serializes writers itself), so that two
invoices never get the same descriptor index and two approvals never both take the last
place of a year's quota. Chain access in :meth:`VisaProgramme.scan` happens before that
transaction opens. Methods return frozen dataclasses, never table rows.

Typical use::

    programme = VisaProgramme("sqlite:///hashnation.db")   # schema: store.db.upgrade
    programme.configure("wpkh([...]tpub.../<0;1>/*)", VisaRules(...))
    app = programme.apply(applicant_name="A. Investor", nationality="AE")
    programme.set_kyc(app.reference, "cleared")
    invoice = programme.issue_invoice(app.reference)
    programme.scan(source, headers)                  # after the payment confirms
    programme.approve(app.reference)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from hashnation.chain.base import ChainSource, check_transaction
from hashnation.chain.headers import HeaderStore
from hashnation.chain.holdings import sync_headers, utxos_at
from hashnation.errors import (
    ChainError,
    InputError,
    NotFoundError,
    TransitionError,
)
from hashnation.registry import tokens as _tokens
from hashnation.registry.service import PUBLIC_PRINCIPAL, Principal, clean_text
from hashnation.reserve import ledger
from hashnation.reserve.custody import (
    SpendableUtxo,
    build_spend,
    psbt_to_base64,
    spend_id,
)
from hashnation.reserve.descriptors import script_pubkey_from_address
from hashnation.store.models import Account
from hashnation.store.service import StoreService
from hashnation.store.visa_models import (
    VisaApplication,
    VisaInvoice,
    VisaPayment,
    VisaProgrammeRow,
)
from hashnation.visa.invoices import invoice_address, programme_descriptor, script_address
from hashnation.visa.rules import (
    KYC_STATUSES,
    InvoiceState,
    Outcome,
    PaymentSeen,
    VisaRules,
    fee_value_usd,
    settle,
)

__all__ = [
    "ApplicationView",
    "InvoiceView",
    "PaymentView",
    "ProgrammeView",
    "RefundView",
    "ScanResult",
    "StatusView",
    "VisaProgramme",
]

T = TypeVar("T")

_REFERENCE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_REFERENCE_CHARS: Final = 10
_REFUND_LABEL: Final = "visa"
_MAX_NAME: Final = 200


# ---------------------------------------------------------------- views


@dataclass(frozen=True, slots=True)
class ProgrammeView:
    """The programme's configuration.

    Attributes
    ----------
    descriptor
        Watch-only descriptor the invoice addresses come from.
    network
        ``main`` or ``test``.
    rules
        The programme's terms.
    custody_account, income_account
        Ledger accounts the fees are recorded in.
    next_index
        Next unused receive index.
    """

    descriptor: str
    network: str
    rules: VisaRules
    custody_account: str
    income_account: str
    next_index: int


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application.

    Attributes
    ----------
    reference
        Public reference (``HV-`` and 10 characters).
    applicant_name
        Applicant's name.
    nationality
        ISO 3166-1 alpha-2 code.
    refund_address
        Where refunds go (the payer's address when None).
    kyc_status
        ``pending``, ``cleared`` or ``rejected``.
    status
        ``applied``, ``awaiting_payment``, ``paid``, ``approved`` or ``refused``.
    created_at, status_since
        UTC.
    approved_year
        Calendar year of the approval (the quota it counts against).
    """

    reference: str
    applicant_name: str
    nationality: str
    refund_address: str | None
    kyc_status: str
    status: str
    created_at: datetime
    status_since: datetime
    approved_year: int | None


@dataclass(frozen=True, slots=True)
class PaymentView:
    """A payment to an invoice's address.

    Attributes
    ----------
    txid, vout
        The output.
    value_sat
        Amount [sat].
    height
        Confirming block's height.
    block_time
        Its header time, UTC.
    confirmations
        Confirmations at the latest scan [blocks].
    payer_address
        Address of the payment's first input, when it has one.
    outcome
        What the payment did (:class:`~hashnation.visa.rules.Outcome`).
    kept_sat
        Part kept as the fee [sat].
    refund_sat
        Part owed back [sat], before the refund's network fee.
    refund_psbt
        Unsigned refund PSBT (base64) once built.
    refund_spend_id
        Unsigned txid of the refund.
    """

    txid: str
    vout: int
    value_sat: int
    height: int
    block_time: datetime
    confirmations: int
    payer_address: str | None
    outcome: Outcome
    kept_sat: int
    refund_sat: int
    refund_psbt: str | None
    refund_spend_id: str | None


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """A BTC invoice.

    Attributes
    ----------
    reference
        The application's reference.
    index
        Descriptor index of the address.
    address
        Address to pay.
    amount_sat
        Amount due [sat].
    price_usd_per_btc
        Stated price when issued [USD/BTC].
    issued_at, expires_at
        Validity, UTC.
    status
        :class:`~hashnation.visa.rules.InvoiceState`.
    received_sat
        Counted towards the fee [sat].
    shortfall_sat
        Still to pay [sat].
    confirmations_required
        Confirmations a payment needs [blocks].
    scanned_height
        Height of the latest scan.
    paid_txid
        Transaction that paid it.
    ledger_entry_id
        Reserve ledger entry of the fee.
    payments
        Payments seen, in chain order.
    """

    reference: str
    index: int
    address: str
    amount_sat: int
    price_usd_per_btc: Decimal
    issued_at: datetime
    expires_at: datetime
    status: InvoiceState
    received_sat: int
    shortfall_sat: int
    confirmations_required: int
    scanned_height: int | None
    paid_txid: str | None
    ledger_entry_id: int | None
    payments: tuple[PaymentView, ...]

    @property
    def uri(self) -> str:
        """BIP21 payment URI (amount in BTC)."""
        whole, frac = divmod(self.amount_sat, 100_000_000)
        amount = f"{whole}.{frac:08d}".rstrip("0").rstrip(".")
        return f"bitcoin:{self.address}?amount={amount}"


@dataclass(frozen=True, slots=True)
class StatusView:
    """An application with its invoices: what the status page shows.

    Attributes
    ----------
    application
        The application.
    invoices
        Its invoices, newest last.
    """

    application: ApplicationView

    invoices: tuple[InvoiceView, ...]

    @property
    def current_invoice(self) -> InvoiceView | None:
        """The newest invoice, if any."""
        return self.invoices[-1] if self.invoices else None


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan found.

    Attributes
    ----------
    height
        Scan height.
    block_hash
        Hash of the header at that height, display hex.
    invoices_scanned
        Invoices whose address was looked up.
    new_payments
        Payments seen for the first time.
    paid
        References of applications whose invoice became paid.
    expired
        References of applications whose invoice expired unpaid.
    """

    height: int
    block_hash: str
    invoices_scanned: int
    new_payments: int
    paid: tuple[str, ...]
    expired: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RefundView:
    """A refund, as an unsigned PSBT.

    Attributes
    ----------
    reference
        The application's reference.
    txid, vout
        The payment refunded.
    refund_sat
        Owed back [sat].
    amount_sat
        Paid back to the payer [sat]: ``refund_sat`` less the network fee.
    fee_sat
        Network fee [sat].
    destination
        Address paid.
    psbt_base64
        The unsigned PSBT.
    spend_id
        Its unsigned txid.
    """

    reference: str
    txid: str
    vout: int
    refund_sat: int
    amount_sat: int
    fee_sat: int
    destination: str
    psbt_base64: str
    spend_id: str


# ---------------------------------------------------------------- helpers


def _application_view(row: VisaApplication) -> ApplicationView:
    return ApplicationView(
        reference=row.reference,
        applicant_name=row.applicant_name,
        nationality=row.nationality,
        refund_address=row.refund_address,
        kyc_status=row.kyc_status,
        status=row.status,
        created_at=row.created_at,
        status_since=row.status_since,
        approved_year=row.approved_year,
    )


def _payment_view(row: VisaPayment) -> PaymentView:
    return PaymentView(
        txid=row.txid,
        vout=row.vout,
        value_sat=row.value_sat,
        height=row.height,
        block_time=row.block_time,
        confirmations=row.confirmations,
        payer_address=row.payer_address,
        outcome=Outcome(row.outcome),
        kept_sat=row.kept_sat,
        refund_sat=row.refund_sat,
        refund_psbt=row.refund_psbt,
        refund_spend_id=row.refund_spend_id,
    )


def _rules(row: VisaProgrammeRow) -> VisaRules:
    return VisaRules(
        price_usd_per_btc=row.price_usd_per_btc,
        amount_sat=row.amount_sat,
        amount_usd=row.amount_usd,
        invoice_validity_hours=row.invoice_validity_hours,
        confirmations_required=row.confirmations_required,
        yearly_quota=row.yearly_quota,
        tolerance_sat=row.tolerance_sat,
    )


def _payments(session: Session, invoice_id: int) -> list[VisaPayment]:
    return list(
        session.scalars(
            select(VisaPayment)
            .where(VisaPayment.invoice_id == invoice_id)
            .order_by(VisaPayment.height, VisaPayment.txid, VisaPayment.vout)
        )
    )


def _seen(row: VisaPayment) -> PaymentSeen:
    return PaymentSeen(
        row.txid, row.vout, row.value_sat, row.height, row.block_time, row.confirmations
    )


@dataclass(frozen=True, slots=True)
class _Found:
    script_hex: str
    txid: str
    vout: int
    value_sat: int
    height: int
    block_time: datetime
    funding_tx_hex: str
    payer_address: str | None


# ---------------------------------------------------------------- service


class VisaProgramme(StoreService):
    """The investor-residency visa programme.

    Parameters
    ----------
    bind
        An engine (kept open by :meth:`close`), or a database URL for an engine made
        here and disposed of by :meth:`close`; the default SQLite file when None. The
        schema must exist (:func:`hashnation.store.db.upgrade`).
    clock
        Returns the current time (timezone-aware); ``datetime.now(UTC)`` by default.
    """

    def __init__(
        self,
        bind: Engine | str | URL | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(bind, clock=clock)

    # ------------------------------------------------------------ plumbing

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction."""
        return self._transaction(work)

    @staticmethod
    def _programme_row(session: Session, *, lock: bool) -> VisaProgrammeRow:
        query = select(VisaProgrammeRow).where(VisaProgrammeRow.id == 1)
        if lock:
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise NotFoundError(
                "visa programme: not configured; run 'hashnation visa configure' first"
            )
        return row

    @staticmethod
    def _application_row(session: Session, reference: str) -> VisaApplication:
        if not isinstance(reference, str):
            raise InputError("reference", reference, "an application reference (HV-...)")
        row = session.scalar(
            select(VisaApplication).where(VisaApplication.reference == reference.strip().upper())
        )
        if row is None:
            raise NotFoundError(f"reference: no visa application {reference!r}")
        return row

    def _invoice_view(self, session: Session, row: VisaInvoice, reference: str) -> InvoiceView:
        return InvoiceView(
            reference=reference,
            index=row.derivation_index,
            address=row.address,
            amount_sat=row.amount_sat,
            price_usd_per_btc=row.price_usd_per_btc,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            status=InvoiceState(row.status),
            received_sat=row.received_sat,
            shortfall_sat=row.shortfall_sat,
            confirmations_required=row.confirmations_required,
            scanned_height=row.scanned_height,
            paid_txid=row.paid_txid,
            ledger_entry_id=row.ledger_entry_id,
            payments=tuple(_payment_view(p) for p in _payments(session, row.id)),
        )

    # ------------------------------------------------------------ configuration

    def configure(
        self,
        descriptor: str,
        rules: VisaRules,
        *,
        custody_account: str = "visa-custody",
        income_account: str = "visa-fees",
    ) -> ProgrammeView:
        """Set the programme's descriptor and terms (creating the ledger accounts).

        Invoices already issued keep the terms they were issued under. The descriptor
        may be replaced only while no invoice has been issued: indices are never reused.

        Parameters
        ----------
        descriptor
            Watch-only descriptor ``.../<0;1>/*`` (public keys only).
        rules
            The terms.
        custody_account
            Ledger custody account of the fees (made when missing).
        income_account
            Ledger income account of the fees (made when missing).

        Returns
        -------
        ProgrammeView
            The configuration stored.

        Raises
        ------
        DescriptorError, PrivateKeyError
            For a bad descriptor or one holding a private key.
        TransitionError
            If the descriptor changes after invoices were issued.
        InputError
            If ``rules`` is not a :class:`VisaRules`.
        """
        if not isinstance(rules, VisaRules):
            raise InputError("rules", type(rules).__name__, "a VisaRules")
        parsed = programme_descriptor(descriptor)
        text = str(parsed)

        def work(session: Session) -> ProgrammeView:
            now = self.now()
            row = session.scalar(
                select(VisaProgrammeRow).where(VisaProgrammeRow.id == 1).with_for_update()
            )
            if row is None:
                row = VisaProgrammeRow(id=1, next_index=0, next_change_index=0)
                session.add(row)
            elif row.descriptor != text and session.scalar(select(func.count(VisaInvoice.id))):
                raise TransitionError(
                    "descriptor: invoices were issued from the current descriptor; "
                    "expected the same descriptor (indices are never reused)"
                )
            row.descriptor = text
            row.network = parsed.network
            row.amount_sat = rules.amount_sat
            row.amount_usd = rules.amount_usd
            row.price_usd_per_btc = rules.price_usd_per_btc
            row.invoice_validity_hours = rules.invoice_validity_hours
            row.confirmations_required = rules.confirmations_required
            row.yearly_quota = rules.yearly_quota
            row.tolerance_sat = rules.tolerance_sat
            row.custody_account = custody_account
            row.income_account = income_account
            row.updated_at = now
            for name, kind in ((custody_account, "custody"), (income_account, "income")):
                existing = session.scalar(select(Account).where(Account.name == name))
                if existing is None:
                    ledger.add_account(session, name, kind, description="investor visa programme")
                elif existing.type != kind:
                    raise InputError(
                        f"{kind}_account",
                        name,
                        f"an account of type {kind} (it is {existing.type})",
                    )
            session.flush()
            return ProgrammeView(
                text, parsed.network, rules, custody_account, income_account, row.next_index
            )

        return self._write(work)

    def programme(self) -> ProgrammeView:
        """Read the programme's configuration.

        Raises
        ------
        NotFoundError
            If the programme is not configured.
        """
        with self._read() as session:
            row = self._programme_row(session, lock=False)
            return ProgrammeView(
                row.descriptor,
                row.network,
                _rules(row),
                row.custody_account,
                row.income_account,
                row.next_index,
            )

    # ------------------------------------------------------------ applications

    def apply(
        self,
        *,
        applicant_name: str,
        nationality: str,
        refund_address: str | None = None,
    ) -> ApplicationView:
        """Open an application (KYC pending).

        Parameters
        ----------
        applicant_name
            1-200 characters.
        nationality
            ISO 3166-1 alpha-2 code.
        refund_address
            Where refunds go; the address of the payment's first input when None.

        Returns
        -------
        ApplicationView
            The application, with its new reference.

        Raises
        ------
        InputError
            Field ``applicant_name``, ``nationality`` or ``refund_address``.
        NotFoundError
            If the programme is not configured.
        """
        name = clean_text("applicant_name", applicant_name, _MAX_NAME)
        if not isinstance(nationality, str) or not (
            len(nationality) == 2 and nationality.isalpha() and nationality.isupper()
        ):
            raise InputError("nationality", nationality, "an ISO 3166-1 alpha-2 code (AE)")

        def work(session: Session) -> ApplicationView:
            programme = self._programme_row(session, lock=True)
            address = None
            if refund_address is not None:
                address = clean_text("refund_address", refund_address, 100)
                script_pubkey_from_address(address, network=programme.network)  # type: ignore[arg-type]
            now = self.now()
            reference = "HV-" + "".join(
                secrets.choice(_REFERENCE_ALPHABET) for _ in range(_REFERENCE_CHARS)
            )
            row = VisaApplication(
                reference=reference,
                applicant_name=name,
                nationality=nationality,
                refund_address=address,
                kyc_status="pending",
                status="applied",
                created_at=now,
                status_since=now,
            )
            session.add(row)
            session.flush()
            return _application_view(row)

        return self._write(work)

    def set_kyc(self, reference: str, status: str) -> ApplicationView:
        """Record the outcome of the applicant's KYC checks.

        KYC may change only before an invoice is issued; ``rejected`` refuses the
        application.

        Parameters
        ----------
        reference
            The application.
        status
            ``pending``, ``cleared`` or ``rejected``.

        Returns
        -------
        ApplicationView
            The application.

        Raises
        ------
        InputError
            Field ``kyc_status``.
        NotFoundError
            No such application.
        TransitionError
            If the application is past the ``applied`` status.
        """
        if status not in KYC_STATUSES:
            raise InputError("kyc_status", status, f"one of {', '.join(KYC_STATUSES)}")

        def work(session: Session) -> ApplicationView:
            self._programme_row(session, lock=True)
            row = self._application_row(session, reference)
            if row.status != "applied" or session.scalar(
                select(func.count(VisaInvoice.id)).where(
                    VisaInvoice.application_id == row.id, VisaInvoice.status == "paid"
                )
            ):
                raise TransitionError(
                    f"kyc_status: application {row.reference} is {row.status}; KYC may "
                    "change only while it is applied, before an invoice"
                )
            now = self.now()
            row.kyc_status = status
            if status == "rejected":
                row.status = "refused"
                row.status_since = now
            session.flush()
            return _application_view(row)

        return self._write(work)

    def issue_invoice(self, reference: str) -> InvoiceView:
        """Issue a BTC invoice: a new address of the programme's descriptor.

        Parameters
        ----------
        reference
            The application; its KYC must be cleared and it must be ``applied`` (a new
            invoice after an expired one is allowed).

        Returns
        -------
        InvoiceView
            The invoice: address, amount due, validity.

        Raises
        ------
        NotFoundError
            No such application, or the programme is not configured.
        TransitionError
            KYC not cleared, or the application already has an open or paid invoice.
        """

        def work(session: Session) -> InvoiceView:
            programme = self._programme_row(session, lock=True)
            row = self._application_row(session, reference)
            if row.kyc_status != "cleared":
                raise TransitionError(
                    f"kyc_status: application {row.reference} has KYC {row.kyc_status}; "
                    "expected cleared before an invoice is issued"
                )
            if row.status != "applied":
                raise TransitionError(
                    f"status: application {row.reference} is {row.status}; expected applied "
                    "(an invoice is issued once, or again after one expired)"
                )
            rules = _rules(programme)
            descriptor = programme_descriptor(programme.descriptor)
            derived = invoice_address(descriptor, programme.next_index)
            programme.next_index = derived.index + 1
            now = self.now()
            invoice = VisaInvoice(
                application_id=row.id,
                derivation_index=derived.index,
                address=derived.address,
                script_pubkey_hex=derived.script_pubkey_hex,
                amount_sat=rules.fee_sat,
                price_usd_per_btc=rules.price_usd_per_btc,
                tolerance_sat=rules.tolerance_sat,
                confirmations_required=rules.confirmations_required,
                issued_at=now,
                expires_at=now + rules.invoice_validity,
                status=InvoiceState.AWAITING_PAYMENT.value,
                received_sat=0,
                shortfall_sat=rules.fee_sat,
            )
            session.add(invoice)
            row.status = "awaiting_payment"
            row.status_since = now
            session.flush()
            return self._invoice_view(session, invoice, row.reference)

        return self._write(work)

    # ------------------------------------------------------------ payments

    def scan(
        self, source: ChainSource, headers: HeaderStore, *, height: int | None = None
    ) -> ScanResult:
        """Detect and settle payments to every invoice's address at a height.

        Headers are synced into ``headers`` (each checked), then the unspent outputs
        of every invoice address at ``height`` are fetched and verified by SPV
        (:func:`~hashnation.chain.holdings.utxos_at`: each funding transaction hashes
        to its txid and carries a merkle proof against the header store). Payments
        are stored with their confirmations; only those with the invoice's required
        confirmations count. Each invoice is then settled by
        :func:`hashnation.visa.rules.settle`, and a newly paid invoice's fee is
        recorded in the reserve ledger as a ``visa_payment`` entry, valued at the
        invoice's stated price.

        Parameters
        ----------
        source
            Chain source (Esplora, Bitcoin Core, Electrum, regtest).
        headers
            Header store anchored at a trusted checkpoint.
        height
            Scan height; the source's tip by default.

        Returns
        -------
        ScanResult
            Counts and the applications paid or expired.

        Raises
        ------
        SpvError, ChainError
            If the source fails or a proof does not verify; nothing is written then.
        """
        tip = sync_headers(source, headers, height)
        at = tip if height is None else height
        with self._read() as session:
            self._programme_row(session, lock=False)
            network = session.scalar(select(VisaProgrammeRow.network))
            scripts = list(session.scalars(select(VisaInvoice.script_pubkey_hex)))
            known = {
                (txid, vout)
                for txid, vout in session.execute(select(VisaPayment.txid, VisaPayment.vout))
            }
        block_hash = headers.header_at(at).hash_hex()
        found: list[_Found] = []
        if scripts:
            holdings = utxos_at(source, scripts, at, headers, 1)
            for utxo in holdings.utxos:
                if (utxo.txid, utxo.vout) in known:
                    continue
                raw = holdings.funding_transactions[utxo.txid]
                found.append(
                    _Found(
                        script_hex=utxo.script_pubkey,
                        txid=utxo.txid,
                        vout=utxo.vout,
                        value_sat=utxo.value_sat,
                        height=utxo.height,
                        block_time=datetime.fromtimestamp(headers.header_at(utxo.height).time, UTC),
                        funding_tx_hex=raw.hex(),
                        payer_address=self._payer(source, raw, utxo.txid, str(network)),
                    )
                )

        def work(session: Session) -> ScanResult:
            programme = self._programme_row(session, lock=True)
            now = self.now()
            invoices = {row.script_pubkey_hex: row for row in session.scalars(select(VisaInvoice))}
            for item in found:
                invoice = invoices[item.script_hex]
                session.add(
                    VisaPayment(
                        invoice_id=invoice.id,
                        txid=item.txid,
                        vout=item.vout,
                        value_sat=item.value_sat,
                        height=item.height,
                        block_time=item.block_time,
                        confirmations=at - item.height + 1,
                        payer_address=item.payer_address,
                        funding_tx_hex=item.funding_tx_hex,
                        outcome=Outcome.PENDING.value,
                        kept_sat=0,
                        refund_sat=0,
                        first_seen_at=now,
                    )
                )
            session.flush()
            paid: list[str] = []
            expired: list[str] = []
            for invoice in invoices.values():
                application = session.get(VisaApplication, invoice.application_id)
                assert application is not None
                rows = _payments(session, invoice.id)
                for payment in rows:
                    payment.confirmations = max(at - payment.height + 1, 0)
                settlement = settle(
                    invoice.amount_sat,
                    invoice.tolerance_sat,
                    invoice.expires_at,
                    now,
                    invoice.confirmations_required,
                    [_seen(p) for p in rows if p.confirmations > 0],
                )
                by_outpoint = {(s.payment.txid, s.payment.vout): s for s in settlement.payments}
                for payment in rows:
                    decided = by_outpoint.get((payment.txid, payment.vout))
                    if decided is None or payment.refund_psbt is not None:
                        continue
                    payment.outcome = decided.outcome.value
                    payment.kept_sat = decided.kept_sat
                    payment.refund_sat = decided.refund_sat
                invoice.scanned_height = at
                invoice.received_sat = settlement.received_sat
                invoice.shortfall_sat = settlement.shortfall_sat
                before = invoice.status
                if before == InvoiceState.PAID.value:
                    continue
                invoice.status = settlement.state.value
                if settlement.state is InvoiceState.PAID:
                    assert settlement.paid_by is not None
                    invoice.paid_txid = settlement.paid_by.txid
                    entry = ledger.record_visa_payment(
                        session,
                        occurred_at=settlement.paid_by.block_time,
                        custody=programme.custody_account,
                        payer=programme.income_account,
                        amount_sat=settlement.kept_sat,
                        value_usd=fee_value_usd(settlement.kept_sat, invoice.price_usd_per_btc),
                        application_id=application.reference,
                        txid=settlement.paid_by.txid,
                        memo=f"investor visa fee, invoice address {invoice.address}",
                    )
                    invoice.ledger_entry_id = entry.id
                    if application.status == "awaiting_payment":
                        application.status = "paid"
                        application.status_since = now
                    paid.append(application.reference)
                elif settlement.state is InvoiceState.EXPIRED and before != "expired":
                    if application.status == "awaiting_payment":
                        application.status = "applied"
                        application.status_since = now
                    expired.append(application.reference)
            session.flush()
            return ScanResult(
                at,
                block_hash,
                len(invoices),
                len(found),
                tuple(sorted(paid)),
                tuple(sorted(expired)),
            )

        return self._write(work)

    @staticmethod
    def _payer(source: ChainSource, raw: bytes, txid: str, network: str) -> str | None:
        """Address of the first input's previous output, when the source has it."""
        tx = check_transaction(raw, txid, f"{source.url} raw_transaction")
        if not tx.inputs:
            return None
        first = tx.inputs[0]
        prev_txid = first.prev_txid[::-1].hex()
        try:
            prev_raw = source.raw_transaction(prev_txid)
        except ChainError:
            return None
        prev = check_transaction(prev_raw, prev_txid, f"{source.url} raw_transaction")
        if first.prev_vout >= len(prev.outputs):
            return None
        return script_address(prev.outputs[first.prev_vout].script_pubkey, network)

    # ------------------------------------------------------------ decisions

    def approve(self, reference: str) -> ApplicationView:
        """Approve a paid application, within the calendar year's quota (UTC).

        Parameters
        ----------
        reference
            The application: KYC cleared and its invoice paid.

        Returns
        -------
        ApplicationView
            The approved application.

        Raises
        ------
        NotFoundError
            No such application.
        TransitionError
            Not paid, KYC not cleared, or the year's quota is reached.
        """

        def work(session: Session) -> ApplicationView:
            programme = self._programme_row(session, lock=True)
            row = self._application_row(session, reference)
            if row.status != "paid" or row.kyc_status != "cleared":
                raise TransitionError(
                    f"status: application {row.reference} is {row.status} with KYC "
                    f"{row.kyc_status}; expected paid with KYC cleared"
                )
            now = self.now()
            taken = session.scalar(
                select(func.count(VisaApplication.id)).where(
                    VisaApplication.approved_year == now.year
                )
            )
            if (taken or 0) >= programme.yearly_quota:
                raise TransitionError(
                    f"yearly_quota: {taken} visas already approved in {now.year}, the quota "
                    f"is {programme.yearly_quota}; expected a place left"
                )
            row.status = "approved"
            row.status_since = now
            row.approved_year = now.year
            session.flush()
            return _application_view(row)

        return self._write(work)

    def refund(self, reference: str, *, fee_rate_sat_per_vb: float = 2.0) -> list[RefundView]:
        """Build an unsigned refund PSBT for every payment owed back, not yet refunded.

        Each payment is refunded from its own output: the whole output for a duplicate,
        late or expired payment (no change), or the excess of an overpayment (the fee
        part returns to the programme's change branch). The network fee is taken from
        the amount refunded. Refunds go to the application's refund address, else to
        the payer's address (the first input's).

        Parameters
        ----------
        reference
            The application.
        fee_rate_sat_per_vb
            Fee rate [sat/vB].

        Returns
        -------
        list of RefundView
            The refunds built now (empty when none is owed).

        Raises
        ------
        NotFoundError
            No such application.
        InputError
            No address to refund to, or an amount too small to refund (below the dust
            threshold once the fee is paid).
        """

        def work(session: Session) -> list[RefundView]:
            programme = self._programme_row(session, lock=True)
            row = self._application_row(session, reference)
            descriptor = programme_descriptor(programme.descriptor)
            built: list[RefundView] = []
            invoices = session.scalars(
                select(VisaInvoice)
                .where(VisaInvoice.application_id == row.id)
                .order_by(VisaInvoice.id)
            )
            for invoice in invoices:
                for payment in _payments(session, invoice.id):
                    if payment.refund_sat <= 0 or payment.refund_psbt is not None:
                        continue
                    destination = row.refund_address or payment.payer_address
                    if destination is None:
                        raise InputError(
                            "refund_address",
                            None,
                            f"an address to refund {payment.txid}:{payment.vout} to "
                            "(the payer's input has none: set the application's refund address)",
                        )
                    utxo = SpendableUtxo(
                        txid=payment.txid,
                        vout=payment.vout,
                        value_sat=payment.value_sat,
                        script_pubkey_hex=invoice.script_pubkey_hex,
                        label=_REFUND_LABEL,
                        branch=0,
                        index=invoice.derivation_index,
                        funding_tx_hex=payment.funding_tx_hex,
                        height=payment.height,
                    )
                    change_index = programme.next_change_index
                    programme.next_change_index = change_index + 1
                    view = self._refund_psbt(
                        descriptor,
                        utxo,
                        payment.refund_sat,
                        destination,
                        fee_rate_sat_per_vb,
                        change_index,
                        row.reference,
                    )
                    payment.refund_psbt = view.psbt_base64
                    payment.refund_spend_id = view.spend_id
                    built.append(view)
            session.flush()
            return built

        return self._write(work)

    @staticmethod
    def _refund_psbt(
        descriptor: object,
        utxo: SpendableUtxo,
        refund_sat: int,
        destination: str,
        fee_rate_sat_per_vb: float,
        change_index: int,
        reference: str,
    ) -> RefundView:
        from hashnation.reserve.descriptors import WatchDescriptor

        assert isinstance(descriptor, WatchDescriptor)

        def spend(amount_sat: int) -> tuple[object, int]:
            psbt = build_spend(
                descriptor,
                [utxo],
                [(destination, amount_sat)],
                fee_rate_sat_per_vb,
                change_index,
                label=_REFUND_LABEL,
            )
            paid_out = sum(out.value for out in psbt.tx.vout)
            return psbt, utxo.value_sat - paid_out

        # First pass with change, to learn the fee of a one-input spend; the refund
        # then pays refund_sat less that fee (a full refund's change is dust: fee).
        _, fee_sat = spend(max(refund_sat // 2, 1))
        psbt, _ = spend(refund_sat - fee_sat)
        from btclib_wallet.psbt import Psbt

        assert isinstance(psbt, Psbt)
        return RefundView(
            reference=reference,
            txid=utxo.txid,
            vout=utxo.vout,
            refund_sat=refund_sat,
            amount_sat=refund_sat - fee_sat,
            fee_sat=fee_sat,
            destination=destination,
            psbt_base64=psbt_to_base64(psbt),
            spend_id=spend_id(psbt),
        )

    # ------------------------------------------------------------ reading

    def status(self, reference: str) -> StatusView:
        """Read an application with its invoices and payments (what the status page shows).

        Parameters
        ----------
        reference
            The application's reference.

        Returns
        -------
        StatusView
            Application, invoices, payments and outcomes.

        Raises
        ------
        NotFoundError
            No such application.
        """
        with self._read() as session:
            row = self._application_row(session, reference)
            invoices = session.scalars(
                select(VisaInvoice)
                .where(VisaInvoice.application_id == row.id)
                .order_by(VisaInvoice.id)
            )
            return StatusView(
                _application_view(row),
                tuple(self._invoice_view(session, i, row.reference) for i in invoices),
            )

    def list_applications(self, *, status: str | None = None) -> list[ApplicationView]:
        """Applications, oldest first, optionally of one status.

        Parameters
        ----------
        status
            Only this status.

        Returns
        -------
        list of ApplicationView
            The applications.
        """
        query = select(VisaApplication).order_by(VisaApplication.id)
        if status is not None:
            query = query.where(VisaApplication.status == status)
        with self._read() as session:
            return [_application_view(r) for r in session.scalars(query)]

    def approved_count(self, year: int) -> int:
        """Visas approved in a calendar year (UTC) [visas]."""
        with self._read() as session:
            count = session.scalar(
                select(func.count(VisaApplication.id)).where(VisaApplication.approved_year == year)
            )
        return int(count or 0)

    def authenticate(self, token: str | None) -> Principal:
        """Find the principal an API token of the registry stands for.

        Parameters
        ----------
        token
            Bearer token, or None for the public.

        Returns
        -------
        Principal
            The public for None, else the token's role.

        Raises
        ------
        AccessError
            If the token is malformed, unknown or revoked.
        """
        if token is None:
            return PUBLIC_PRINCIPAL
        with self._read() as session:
            view = _tokens.find(session, token)
        return Principal(view.role, view.firm_id, view.label)
