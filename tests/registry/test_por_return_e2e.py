"""A custodian's proof of reserves, proved on a regtest chain, filed in its monthly return.

Custodian side: a key made in the test for the run (a scalar from the operating system's
CSPRNG, held in memory, never written anywhere) controls a P2WPKH and a P2TR regtest
address. An in-process regtest chain pays them, pays one coin out again and pays more after
the attestation height ``H``, so the addresses hold a known number of satoshis at ``H``. The
custodian builds its liabilities tree over its customers' BTC balances at ``H`` and signs the
BIP322 challenge of each address; the reserves are proved by SPV against headers synced from
the chain and validated under regtest's proof-of-work rules, and compared with the tree.

Regulator side, on SQLite and PostgreSQL: a custodial wallet provider licensed through the
registry files its January return carrying that attestation. A solvent attestation is stored
clean with the same digest; an insolvent one, or one committing to fewer customer assets than
the return declares, is stored with its breach; an edited one is refused and nothing is stored.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from btclib import b32
from btclib.key import PrvKeyData
from btclib.script.script_pub_key import ScriptPubKey
from btclib.script.taproot import output_pubkey
from btclib_wallet import bip322

from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.holdings import sync_headers
from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.errors import ReturnError
from hashnation.proofs.attestation import SolvencyAttestation, attest, attestation_digest
from hashnation.proofs.balances import Balances
from hashnation.proofs.canonical import canonical_json, sha256_hex
from hashnation.proofs.documents import ReserveAddress, ReserveClaim
from hashnation.proofs.liabilities import Liabilities, build_liabilities, verify_inclusion
from hashnation.proofs.reserves import challenge_message, prove_reserves
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.service import Principal, Registry
from hashnation.registry.views import ApplicationView, ReturnView

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
CUSTODIAN = "karachi-custody"
CUSTOMERS = [("amina", 45_000_000), ("bilal", 35_000_000), ("chen", 20_000_000)]
OWED_SAT = 100_000_000  # what the tree commits to: 1 BTC
MIN_CONFIRMATIONS = 3
OUTSIDER = bytes.fromhex("0014" + "77" * 20)  # a customer's own wallet, outside the reserves
PERIOD_START, PERIOD_END = "2026-01-01", "2026-01-31"
BLOCK_1_TIME = int(datetime(2026, 1, 31, 9, tzinfo=UTC).timestamp())  # blocks at the period's end
STAFF = Principal.staff("officer")
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
FILING_TIME = datetime(2026, 2, 10, 9, tzinfo=UTC)  # January has ended, within its 15 days


# ---------------------------------------------------------------- custodian side


@dataclass(frozen=True)
class Custodian:
    """The custodian's signing key, for this run only, and its two regtest addresses."""

    key: PrvKeyData

    @classmethod
    def new(cls) -> Custodian:
        return cls(PrvKeyData(1 + secrets.randbelow(SECP256K1_ORDER - 1), "regtest"))

    @property
    def p2wpkh(self) -> str:
        return b32.p2wpkh(self.key.pub)

    @property
    def p2tr(self) -> str:
        return b32.p2tr(output_pubkey(self.key.pub)[0], network="regtest")

    def claim(self, liabilities: Liabilities) -> ReserveClaim:
        """``reserves.json``: each address signs its BIP322 challenge bound to the BTC tree."""
        btc = liabilities.asset_root("BTC")
        entries = []
        for address in (self.p2wpkh, self.p2tr):
            message = challenge_message(
                custodian=CUSTODIAN,
                asset="BTC",
                height=liabilities.height,
                liabilities_root=btc.digest,
                liabilities_total=btc.total,
                address=address,
            )
            signature = bip322.sign(message.encode("utf-8"), self.key, address).b64encode()
            entries.append(ReserveAddress(asset="BTC", address=address, signature=signature))
        return ReserveClaim(custodian=CUSTODIAN, height=liabilities.height, addresses=entries)


def script_of(address: str) -> bytes:
    return bytes(ScriptPubKey.from_address(address).script)


@dataclass(frozen=True)
class Mined:
    """A regtest chain and what each custodian address holds at its height ``H`` [sat]."""

    chain: RegtestChain
    height: int
    held_sat: dict[str, int]

    @property
    def reserves_sat(self) -> int:
        return sum(self.held_sat.values())

    @classmethod
    def new(cls, custodian: Custodian, *, wpkh_sat: int, tr_sat: int, paid_out_sat: int) -> Mined:
        chain = RegtestChain(start_time=BLOCK_1_TIME)
        wpkh, tr = script_of(custodian.p2wpkh), script_of(custodian.p2tr)
        deposit = payment_transaction([(wpkh, wpkh_sat)], tag=1)
        chain.mine([deposit, payment_transaction([(OUTSIDER, 5_000), (tr, tr_sat)], tag=2)])
        # A withdrawal spends the P2WPKH deposit: the customer is paid, the change comes back.
        deposit_txid = chain.address_history(wpkh.hex())[0].txid
        withdrawal = payment_transaction(
            [(OUTSIDER, paid_out_sat), (wpkh, wpkh_sat - paid_out_sat)],
            spends=[(deposit_txid, 0)],
        )
        chain.mine([withdrawal])
        chain.mine()
        height = chain.mine()  # the withdrawal has MIN_CONFIRMATIONS at H
        chain.mine([payment_transaction([(wpkh, 10**8)], tag=3)])  # after H: never counted
        chain.mine()
        held = {custodian.p2wpkh: wpkh_sat - paid_out_sat, custodian.p2tr: tr_sat}
        return cls(chain, height, held)


def prove(custodian: Custodian, mined: Mined) -> tuple[Liabilities, SolvencyAttestation]:
    """Liabilities tree at ``H``, BIP322 claim, SPV-proved reserves, and the attestation."""
    balances = Balances.from_rows([(name, "BTC", sat) for name, sat in CUSTOMERS])
    liabilities = build_liabilities(
        balances, height=mined.height, secret=secrets.token_bytes(32), custodian=CUSTODIAN
    )
    root = liabilities.root()
    headers = HeaderStore(mined.chain.checkpoint(), params=REGTEST)
    assert sync_headers(mined.chain, headers) == mined.chain.tip_height() > mined.height
    proof = prove_reserves(
        custodian.claim(liabilities), root, mined.chain, headers, MIN_CONFIRMATIONS
    )
    assert proof.refused == []
    assert proof.holdings is not None
    assert proof.holdings.balances_sat == mined.held_sat
    assert {u.owner for u in proof.holdings.utxos} == set(mined.held_sat)
    assert proof.on_chain_sat == mined.reserves_sat
    assert all(u.confirmations >= MIN_CONFIRMATIONS for u in proof.holdings.utxos)
    return liabilities, attest(root, proof, MIN_CONFIRMATIONS)


# ---------------------------------------------------------------- regulator side


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(db_url: str, clock: Clock) -> Iterator[Registry]:
    with Registry(db_url, clock=clock) as reg:
        yield reg


def count(registry: Registry, table: str) -> int:
    with registry.engine.connect() as conn:
        return int(conn.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) or 0)


def licensed_wallet(registry: Registry, clock: Clock) -> tuple[Principal, ApplicationView]:
    """A custodial wallet provider taken from application to licence, then to filing time."""
    firm = registry.register_firm(STAFF, name="Karachi Custody Ltd", registration_number="CUS-001")
    principal = Principal.firm(firm.id, "karachi")
    spec = LICENCE_SPECS[LicenceType.CUSTODIAL_WALLET]
    app = registry.open_application(
        STAFF,
        firm.id,
        LicenceType.CUSTODIAL_WALLET,
        documents=spec.required_documents,
        capital_usd=spec.min_capital_usd * 2,
    )
    registry.act(principal, app.id, "submit")
    clock.now += timedelta(days=1)
    registry.act(STAFF, app.id, "begin_review")
    registry.act(STAFF, app.id, "approve", conditions=["Publish reserves monthly."])
    clock.now += timedelta(days=1)
    licensed = registry.act(STAFF, app.id, "grant_licence")
    clock.now = FILING_TIME
    return principal, licensed


def wallet_return(attestation: SolvencyAttestation, declared_sat: int) -> dict[str, Any]:
    return {
        "period_start": PERIOD_START,
        "period_end": PERIOD_END,
        "customers": len(CUSTOMERS),
        "complaints_received": 0,
        "complaints_resolved": 0,
        "capital_usd": "1000000",
        "customer_assets_btc_sat": declared_sat,
        "cold_storage_btc_sat": declared_sat // 2,
        "por_attestation": json.loads(attestation.to_json()),
    }


def stored_digest(stored: ReturnView) -> str:
    """Digest of the attestation as the database gives it back, and as a model."""
    document = stored.payload["por_attestation"]
    model = SolvencyAttestation.model_validate(document)
    assert sha256_hex(canonical_json(document)) == attestation_digest(model)
    return attestation_digest(model)


# ---------------------------------------------------------------- scenarios


def test_solvent_custodian_files_a_clean_return(
    registry: Registry, clock: Clock, db_url: str
) -> None:
    custodian = Custodian.new()
    assert custodian.p2wpkh.startswith("bcrt1q") and custodian.p2tr.startswith("bcrt1p")
    mined = Mined.new(custodian, wpkh_sat=90_000_000, tr_sat=30_000_000, paid_out_sat=18_000_000)
    assert mined.reserves_sat == 102_000_000  # a little more than the 1 BTC owed
    liabilities, attestation = prove(custodian, mined)

    # Each customer can check their own balance against the published root.
    root = liabilities.root()
    for name, _ in CUSTOMERS:
        report = verify_inclusion(liabilities.proof(name), root=root, customer_id=name)
        assert report.ok
    btc = root.asset_root("BTC")
    assert btc.total == OWED_SAT and btc.leaf_count == len(CUSTOMERS)

    assert attestation.solvent
    assert (attestation.custodian, attestation.height) == (CUSTODIAN, mined.height)
    assert attestation.block_hash == mined.chain.block_hash(mined.height)
    assert attestation.min_confirmations == MIN_CONFIRMATIONS
    (entry,) = attestation.assets
    assert (entry.asset, entry.liabilities, entry.reserves, entry.surplus, entry.ratio) == (
        "BTC",
        OWED_SAT,
        102_000_000,
        2_000_000,
        "1.020000",
    )
    assert entry.reserves_basis == "bip322+spv"
    assert entry.addresses == [custodian.p2wpkh, custodian.p2tr]
    assert entry.liabilities_root == btc.digest

    principal, licence = licensed_wallet(registry, clock)
    assert licence.licence_number == "VA-CUS-0001"
    filed = registry.file_return(principal, licence.id, wallet_return(attestation, btc.total))
    assert filed.breaches == []
    assert filed.payload["customer_assets_btc_sat"] == OWED_SAT

    # Read back from the database, through a second connection to it.
    with Registry(db_url, clock=clock) as again:
        stored = again.get_return(STAFF, filed.id)
        assert [r.id for r in again.list_returns(STAFF, application_id=licence.id)] == [filed.id]
    assert stored.breaches == []
    assert stored_digest(stored) == attestation_digest(attestation)
    assert stored.payload["por_attestation"]["assets"][0]["ratio"] == "1.020000"


def test_insolvent_reserves_are_stored_with_a_breach(registry: Registry, clock: Clock) -> None:
    custodian = Custodian.new()
    mined = Mined.new(custodian, wpkh_sat=90_000_000, tr_sat=25_000_000, paid_out_sat=20_000_000)
    assert mined.reserves_sat == 95_000_000  # less than the 1 BTC owed
    _, attestation = prove(custodian, mined)
    assert not attestation.solvent
    (entry,) = attestation.assets
    assert (entry.reserves, entry.surplus, entry.ratio) == (95_000_000, -5_000_000, "0.950000")

    principal, licence = licensed_wallet(registry, clock)
    filed = registry.file_return(principal, licence.id, wallet_return(attestation, OWED_SAT))
    stored = registry.get_return(STAFF, filed.id)
    assert [(b.code, b.field, b.severity) for b in stored.breaches] == [
        ("insolvent_attestation", "por_attestation", "major")
    ]
    assert f"at height {mined.height}" in stored.breaches[0].detail
    assert "95000000 sat < liabilities 100000000 sat" in stored.breaches[0].detail
    assert stored_digest(stored) == attestation_digest(attestation)
    assert count(registry, "returns") == 1


def test_declaring_more_than_the_tree_commits_is_a_breach(registry: Registry, clock: Clock) -> None:
    custodian = Custodian.new()
    mined = Mined.new(custodian, wpkh_sat=90_000_000, tr_sat=30_000_000, paid_out_sat=18_000_000)
    liabilities, attestation = prove(custodian, mined)
    assert attestation.solvent

    principal, licence = licensed_wallet(registry, clock)
    # The return declares a customer the tree leaves out: 0.05 BTC more than it commits to.
    declared = liabilities.asset_root("BTC").total + 5_000_000
    filed = registry.file_return(principal, licence.id, wallet_return(attestation, declared))
    stored = registry.get_return(STAFF, filed.id)
    assert [(b.code, b.field, b.severity) for b in stored.breaches] == [
        ("attestation_below_declared", "por_attestation", "major")
    ]
    assert "(100000000 sat)" in stored.breaches[0].detail
    assert "(105000000 sat)" in stored.breaches[0].detail
    assert stored_digest(stored) == attestation_digest(attestation)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("ratio", "1.500000"),  # a better ratio than the reserves show
        ("reserves", "150000000"),  # a sum edited: more reserves than proved
        ("liabilities", "60000000"),  # a sum edited: fewer liabilities than the tree's
        ("surplus", "52000000"),
    ],
)
def test_an_edited_attestation_is_refused_and_nothing_stored(
    registry: Registry, clock: Clock, where: str, value: str
) -> None:
    custodian = Custodian.new()
    mined = Mined.new(custodian, wpkh_sat=90_000_000, tr_sat=30_000_000, paid_out_sat=18_000_000)
    liabilities, attestation = prove(custodian, mined)
    principal, licence = licensed_wallet(registry, clock)
    before = (count(registry, "returns"), count(registry, "registry_audit"))

    payload = wallet_return(attestation, liabilities.asset_root("BTC").total)
    assert payload["por_attestation"]["assets"][0][where] != value
    payload["por_attestation"]["assets"][0][where] = value
    with pytest.raises(ReturnError) as caught:
        registry.file_return(principal, licence.id, payload)
    assert caught.value.field.startswith("por_attestation")
    assert (count(registry, "returns"), count(registry, "registry_audit")) == before
    assert registry.list_returns(STAFF, application_id=licence.id) == []
