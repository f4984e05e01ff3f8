"""Proof of reserves: control of addresses (BIP322) and their balances at a height (SPV).

A custodian proves reserves in BTC in two independent steps, both checked here:

1. **Control.** For every address it claims, it signs a challenge with BIP322
   (the generic signed-message format: simple, full or proof-of-funds
   variant, so any script type, P2WPKH and P2TR included). The challenge
   (:func:`challenge_message`) names the custodian, the asset, the height and
   the liabilities root and total of that asset, so a signature made for
   another custodian, another height or another liabilities tree proves
   nothing here.
2. **Balance.** The addresses whose signature verifies are looked up at the
   height through :func:`hashnation.chain.holdings.utxos_at`: every UTXO is
   rebuilt from the address history and its funding transaction's merkle
   inclusion is checked against a validated header chain. Addresses whose
   signature fails are refused and their coins never counted.

Reserves of assets that do not live on the Bitcoin chain (dollar stablecoins)
cannot be proved this way; a claim may declare them, and the attestation
marks them ``declared``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from btclib.exceptions import InconclusiveError
from btclib.script.script_pub_key import ScriptPubKey
from btclib_wallet import bip322

from hashnation.chain.base import ChainSource
from hashnation.chain.headers import HeaderStore
from hashnation.chain.holdings import Holdings, utxos_at
from hashnation.chain.scripts import address_to_script
from hashnation.errors import InputError
from hashnation.proofs.documents import LiabilitiesRoot, ReserveAddress, ReserveClaim
from hashnation.proofs.errors import ProofInputError

__all__ = [
    "CHALLENGE_TITLE",
    "ControlResult",
    "ReserveProof",
    "challenge_message",
    "message_hash",
    "prove_reserves",
    "verify_bip322",
    "verify_control",
]

CHALLENGE_TITLE = "HashNation proof of reserves v1"
"""First line of every challenge."""


def challenge_message(
    *,
    custodian: str,
    asset: str,
    height: int,
    liabilities_root: str,
    liabilities_total: int,
    address: str,
) -> str:
    """Return the text a custodian signs with BIP322 to show it controls an address.

    Seven lines joined by newlines, no trailing newline, signed as UTF-8::

        HashNation proof of reserves v1
        custodian: acme
        asset: BTC
        height: 900000
        liabilities_root: <64 hex digits of the asset's tree root>
        liabilities_total: <total liabilities in the asset's smallest unit>
        address: bc1q...

    Parameters
    ----------
    custodian
        Custodian id.
    asset
        Asset code (``BTC``).
    height
        Block height of the attestation [blocks].
    liabilities_root
        Root digest of the asset's liabilities tree (hex).
    liabilities_total
        The tree's total [smallest unit].
    address
        The address signing.

    Returns
    -------
    str
        The challenge.
    """
    return "\n".join(
        [
            CHALLENGE_TITLE,
            f"custodian: {custodian}",
            f"asset: {asset}",
            f"height: {height}",
            f"liabilities_root: {liabilities_root}",
            f"liabilities_total: {liabilities_total}",
            f"address: {address}",
        ]
    )


def message_hash(message: str) -> bytes:
    """BIP322's tagged hash of a message (``BIP0322-signed-message``), of its UTF-8 bytes.

    Parameters
    ----------
    message
        The message.

    Returns
    -------
    bytes
        32 bytes.
    """
    return bip322.message_hash(message.encode("utf-8"))


def verify_bip322(message: str, address: str, signature: str) -> tuple[bool, str]:
    """Verify a BIP322 signature of a message for an address.

    Parameters
    ----------
    message
        The message, signed as its UTF-8 bytes.
    address
        The address whose script the signature must satisfy.
    signature
        ``smp``, ``ful`` or ``pof`` prefix and base64 (no prefix: simple);
        a 65-byte legacy signature is accepted for P2PKH only.

    Returns
    -------
    tuple of (bool, str)
        Whether it is valid, and why not ("" when valid). An *inconclusive*
        signature (a rule reserved for upgrades) is not valid.
    """
    try:
        bip322.assert_as_valid(message.encode("utf-8"), address, signature)
    except InconclusiveError as exc:
        return False, f"inconclusive: {' '.join(str(exc).split())}"
    except (ValueError, RuntimeError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return False, f"invalid signature: {reason}"
    return True, ""


@dataclass(frozen=True, slots=True)
class ControlResult:
    """Whether one claimed address is proved to be the custodian's.

    Parameters
    ----------
    asset
        Asset code.
    address
        The address.
    ok
        True when its BIP322 signature of the challenge verifies.
    reason
        Why not.
    """

    asset: str
    address: str
    ok: bool
    reason: str = ""


def _challenge_for(claim: ReserveClaim, root: LiabilitiesRoot, entry: ReserveAddress) -> str:
    asset_root = root.asset_root(entry.asset)
    return challenge_message(
        custodian=claim.custodian,
        asset=entry.asset,
        height=claim.height,
        liabilities_root=asset_root.digest,
        liabilities_total=asset_root.total,
        address=entry.address,
    )


def _check_binding(claim: ReserveClaim, root: LiabilitiesRoot) -> None:
    if (claim.custodian, claim.height) != (root.custodian, root.height):
        raise ProofInputError(
            "reserves custodian/height",
            f"{claim.custodian}/{claim.height}",
            f"the liabilities' {root.custodian}/{root.height}",
        )
    for entry in claim.addresses:
        if entry.asset != "BTC":
            raise ProofInputError(
                f"reserves address {entry.address} asset", entry.asset, "BTC (proved on chain)"
            )
        root.asset_root(entry.asset)


def verify_control(
    claim: ReserveClaim,
    root: LiabilitiesRoot,
    addresses: Sequence[ReserveAddress] | None = None,
) -> list[ControlResult]:
    """Verify the BIP322 signatures of a reserve claim against its challenges.

    Parameters
    ----------
    claim
        The custodian's ``reserves.json``.
    root
        The liabilities ``root.json`` the challenges are bound to.
    addresses
        The entries to check (an audit's sample); all of the claim's by default.

    Returns
    -------
    list of ControlResult
        One per address checked, in order.

    Raises
    ------
    ProofInputError
        If the claim is for another custodian or height than ``root``, or
        claims on-chain reserves in an asset other than BTC or one without a tree.
    """
    _check_binding(claim, root)
    results = []
    for entry in claim.addresses if addresses is None else addresses:
        ok, reason = verify_bip322(
            _challenge_for(claim, root, entry), entry.address, entry.signature
        )
        results.append(ControlResult(entry.asset, entry.address, ok, reason))
    return results


@dataclass(frozen=True, slots=True)
class ReserveProof:
    """Reserves proved at a height.

    Parameters
    ----------
    custodian
        Custodian id.
    height
        Block height [blocks].
    block_hash
        Hash of the block at ``height`` in the validated header chain (display hex).
    control
        The control check of every claimed address.
    holdings
        SPV-verified UTXOs and balances of the addresses whose control holds
        (``None`` when none does).
    on_chain_sat
        Proved BTC reserves [sat]: the balances of controlled addresses.
    declared
        Declared reserves per asset [smallest unit], not provable on chain.
    """

    custodian: str
    height: int
    block_hash: str
    control: tuple[ControlResult, ...]
    holdings: Holdings | None
    on_chain_sat: int
    declared: dict[str, int] = field(default_factory=dict)

    @property
    def proved_addresses(self) -> list[str]:
        """Addresses whose control was proved, in claim order."""
        return [c.address for c in self.control if c.ok]

    @property
    def refused(self) -> list[ControlResult]:
        """Addresses refused (signature invalid), whose coins were not counted."""
        return [c for c in self.control if not c.ok]


def _lookup_target(address: str) -> str:
    """Return what the chain source is asked about for a proved address.

    The address itself where the chain pillar decodes it (mainnet and testnet);
    otherwise (a regtest ``bcrt1`` address) the ``scriptPubKey`` hex that the
    BIP322 signature was just verified against.
    """
    try:
        address_to_script(address)
    except InputError:
        return bytes(ScriptPubKey.from_address(address).script).hex()
    return address


def _relabelled(holdings: Holdings, names: Mapping[str, str]) -> Holdings:
    """Return the holdings with each owner named by its claimed address, not the lookup."""
    if all(target == address for target, address in names.items()):
        return holdings
    return replace(
        holdings,
        utxos=tuple(replace(u, owner=names[u.owner]) for u in holdings.utxos),
        balances_sat={names[owner]: sat for owner, sat in holdings.balances_sat.items()},
    )


def prove_reserves(
    claim: ReserveClaim,
    root: LiabilitiesRoot,
    source: ChainSource,
    headers: HeaderStore,
    min_confirmations: int = 1,
) -> ReserveProof:
    """Verify control of each claimed address, then its balance at the height by SPV.

    Parameters
    ----------
    claim
        The custodian's ``reserves.json``.
    root
        The liabilities ``root.json`` (binds the challenges).
    source
        Chain source for histories, transactions and merkle proofs.
    headers
        Validated header chain holding the claim's height.
    min_confirmations
        Confirmations each UTXO must have at the height.

    Returns
    -------
    ReserveProof
        Control results, verified holdings and the proved BTC total [sat].

    Raises
    ------
    ProofInputError
        If the claim does not match ``root`` (custodian, height, assets).
    hashnation.errors.SpvError
        If chain data fails verification.
    hashnation.errors.ChainError
        If the source fails.
    """
    control = verify_control(claim, root)
    block_hash = headers.header_at(claim.height).hash_hex()
    # A list, not a dict: two addresses of one script must reach utxos_at, which refuses them.
    targets = [(_lookup_target(c.address), c.address) for c in control if c.ok]
    holdings = None
    if targets:
        found = utxos_at(source, [t for t, _ in targets], claim.height, headers, min_confirmations)
        holdings = _relabelled(found, dict(targets))
    return ReserveProof(
        custodian=claim.custodian,
        height=claim.height,
        block_hash=block_hash,
        control=tuple(control),
        holdings=holdings,
        on_chain_sat=0 if holdings is None else holdings.total_sat,
        declared={d.asset: d.amount for d in claim.declared},
    )
