"""Solvency attestation: reserves against liabilities, per asset, at one height.

:func:`attest` compares each asset's liabilities (the total of its tree in
``root.json``) with the reserves proved for it (BTC: BIP322 control and SPV
balances; other assets: declared) and gives the surplus, the ratio and a
verdict. :class:`SolvencyAttestation` is a pydantic model other pillars embed
(a licensed custodian's periodic return carries one; the records pillar
anchors its digest), and :func:`attestation_digest` is the SHA-256 of its
canonical JSON, the value to anchor::

    attestation = attest(root, reserve_proof)
    digest = attestation_digest(attestation)   # 64 hex digits
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from hashnation.proofs.assets import get_asset
from hashnation.proofs.canonical import canonical_json, sha256_hex
from hashnation.proofs.documents import (
    Amount,
    AssetCode,
    CustodianId,
    Hex32,
    LiabilitiesRoot,
    _Document,
)
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.liabilities import Check, liabilities_digest
from hashnation.proofs.reserves import ReserveProof

__all__ = [
    "RATIO_DECIMALS",
    "AssetSolvency",
    "SolvencyAttestation",
    "attest",
    "attestation_digest",
    "canonical_attestation",
    "check_attestation",
    "solvency",
]

RATIO_DECIMALS = 6
"""Decimals of the reserve ratio (rounded down)."""


def _signed(value: object) -> int:
    if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("a decimal string of a signed integer amount")


SignedAmount = Annotated[
    int,
    BeforeValidator(_signed),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?(0|[1-9][0-9]*)$"}),
]
"""A signed amount [smallest unit]: ``int`` in Python, decimal string in JSON."""


def solvency(liabilities: int, reserves: int) -> tuple[int, str | None, bool]:
    """Surplus, ratio and verdict of one asset, in integers.

    Parameters
    ----------
    liabilities
        Liabilities [smallest unit].
    reserves
        Reserves [smallest unit].

    Returns
    -------
    tuple of (int, str or None, bool)
        ``reserves - liabilities`` [smallest unit]; ``reserves / liabilities``
        as a decimal string with :data:`RATIO_DECIMALS` decimals, rounded down
        (``None`` when there are no liabilities); and ``reserves >= liabilities``.
    """
    ratio = None
    if liabilities:
        scaled = reserves * 10**RATIO_DECIMALS // liabilities
        ratio = f"{scaled // 10**RATIO_DECIMALS}.{scaled % 10**RATIO_DECIMALS:0{RATIO_DECIMALS}d}"
    return reserves - liabilities, ratio, reserves >= liabilities


class AssetSolvency(_Document):
    """Reserves against liabilities for one asset.

    Parameters
    ----------
    asset
        Asset code.
    unit
        Smallest unit of every amount (``sat``).
    liabilities
        Total of the asset's liabilities tree [unit].
    liabilities_root
        Root digest of that tree (hex).
    leaf_count
        Leaves of that tree.
    reserves
        Reserves counted [unit].
    reserves_basis
        ``bip322+spv`` (addresses whose control was proved by BIP322 and whose
        balances were checked by SPV at the height), ``declared`` (stated by
        the custodian, not provable on the Bitcoin chain) or ``none``.
    addresses
        Addresses counted (``bip322+spv`` only), in claim order.
    surplus
        ``reserves - liabilities`` [unit], may be negative.
    ratio
        ``reserves / liabilities`` with 6 decimals, rounded down; ``None``
        without liabilities.
    solvent
        ``reserves >= liabilities``.
    """

    asset: AssetCode
    unit: str
    liabilities: Amount
    liabilities_root: Hex32
    leaf_count: int = Field(ge=1, strict=True)
    reserves: Amount
    reserves_basis: Literal["bip322+spv", "declared", "none"]
    addresses: list[str] = Field(default_factory=list)
    surplus: SignedAmount
    ratio: str | None = Field(pattern=r"^[0-9]+\.[0-9]{6}$")
    solvent: bool

    @model_validator(mode="after")
    def _arithmetic(self) -> AssetSolvency:
        if (self.surplus, self.ratio, self.solvent) != solvency(self.liabilities, self.reserves):
            raise ValueError("surplus, ratio and solvent that follow from reserves and liabilities")
        return self


class SolvencyAttestation(_Document):
    """A custodian's solvency at a block height: embed it, anchor its digest.

    Parameters
    ----------
    format
        ``hashnation-por-attestation``.
    version
        1.
    custodian
        Custodian id.
    height
        Block height [blocks].
    block_hash
        Hash of the block at ``height`` the reserves were checked against
        (display hex).
    min_confirmations
        Confirmations each counted UTXO had at ``height``.
    liabilities_digest
        SHA-256 of the canonical ``root.json`` (hex).
    assets
        One entry per asset of the liabilities, sorted by code.
    solvent
        True when every asset is.
    """

    format: Literal["hashnation-por-attestation"] = "hashnation-por-attestation"
    version: Literal[1] = 1
    custodian: CustodianId
    height: int = Field(ge=0, le=2**31 - 1, strict=True)
    block_hash: Hex32
    min_confirmations: int = Field(ge=1, strict=True)
    liabilities_digest: Hex32
    assets: list[AssetSolvency] = Field(min_length=1)
    solvent: bool

    @model_validator(mode="after")
    def _verdict(self) -> SolvencyAttestation:
        if self.solvent != all(a.solvent for a in self.assets):
            raise ValueError("solvent true exactly when every asset is")
        codes = [a.asset for a in self.assets]
        if codes != sorted(set(codes)):
            raise ValueError("assets sorted by code, each once")
        return self


def canonical_attestation(attestation: SolvencyAttestation) -> bytes:
    """Canonical JSON bytes of an attestation (see :mod:`hashnation.proofs.canonical`).

    Parameters
    ----------
    attestation
        The attestation.

    Returns
    -------
    bytes
        UTF-8, keys sorted, no whitespace, amounts as decimal strings.
    """
    return canonical_json(attestation.model_dump(mode="json"))


def attestation_digest(attestation: SolvencyAttestation) -> str:
    """SHA-256 of the attestation's canonical JSON, in hex: the value to anchor.

    Parameters
    ----------
    attestation
        The attestation.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    return sha256_hex(canonical_attestation(attestation))


def attest(
    root: LiabilitiesRoot, reserves: ReserveProof, min_confirmations: int = 1
) -> SolvencyAttestation:
    """Compare reserves with liabilities for every asset of ``root``.

    Parameters
    ----------
    root
        The published liabilities ``root.json``.
    reserves
        Reserves proved at the same height (:func:`~hashnation.proofs.reserves.prove_reserves`).
    min_confirmations
        Confirmations the reserve UTXOs were required to have.

    Returns
    -------
    SolvencyAttestation
        The attestation.

    Raises
    ------
    ProofInputError
        If the reserves are for another custodian or height, or declare an
        on-chain asset or an asset without liabilities.
    """
    if (reserves.custodian, reserves.height) != (root.custodian, root.height):
        raise ProofInputError(
            "reserves custodian/height",
            f"{reserves.custodian}/{reserves.height}",
            f"the liabilities' {root.custodian}/{root.height}",
        )
    codes = {a.asset for a in root.assets}
    for code in reserves.declared:
        if get_asset(code).on_chain or code not in codes:
            raise ProofInputError(
                "declared asset", code, "an off-chain asset with liabilities (BTC is proved)"
            )
    entries = []
    for asset_root in root.assets:
        asset = get_asset(asset_root.asset)
        addresses: list[str] = []
        if asset.on_chain:
            amount, basis = reserves.on_chain_sat, "bip322+spv"
            addresses = reserves.proved_addresses
        elif asset.code in reserves.declared:
            amount, basis = reserves.declared[asset.code], "declared"
        else:
            amount, basis = 0, "none"
        surplus, ratio, solvent = solvency(asset_root.total, amount)
        entries.append(
            AssetSolvency(
                asset=asset.code,
                unit=asset.unit,
                liabilities=asset_root.total,
                liabilities_root=asset_root.digest,
                leaf_count=asset_root.leaf_count,
                reserves=amount,
                reserves_basis=basis,  # type: ignore[arg-type]
                addresses=addresses,
                surplus=surplus,
                ratio=ratio,
                solvent=solvent,
            )
        )
    return SolvencyAttestation(
        custodian=root.custodian,
        height=root.height,
        block_hash=reserves.block_hash,
        min_confirmations=min_confirmations,
        liabilities_digest=liabilities_digest(root),
        assets=entries,
        solvent=all(e.solvent for e in entries),
    )


def check_attestation(attestation: SolvencyAttestation, root: LiabilitiesRoot) -> list[Check]:
    """Check that an attestation is about a given ``root.json``.

    Parameters
    ----------
    attestation
        The attestation (its arithmetic is checked when it is read).
    root
        The published liabilities root.

    Returns
    -------
    list of Check
        Digest, custodian and height, and each asset's root, total and leaf count.
    """
    checks = [
        Check(
            "attestation: liabilities digest",
            attestation.liabilities_digest == liabilities_digest(root),
            "" if attestation.liabilities_digest == liabilities_digest(root) else "another root",
        ),
        Check(
            "attestation: custodian and height",
            (attestation.custodian, attestation.height) == (root.custodian, root.height),
        ),
    ]
    attested = {a.asset: a for a in attestation.assets}
    for asset_root in root.assets:
        entry = attested.get(asset_root.asset)
        same = entry is not None and (
            entry.liabilities_root,
            entry.liabilities,
            entry.leaf_count,
        ) == (asset_root.digest, asset_root.total, asset_root.leaf_count)
        checks.append(Check(f"attestation: {asset_root.asset} liabilities", same))
    return checks
