"""Proof of reserves and liabilities for licensed custodians.

Liabilities (:mod:`~hashnation.proofs.liabilities`): a Merkle-sum tree per
asset over customer balances, whose nodes commit to both children's digests
and sums, with range-checked amounts, per-customer nonces bound to the
height, optional balance splitting and a shuffled leaf order; a private
inclusion proof per customer and a public ``root.json``.
Reserves (:mod:`~hashnation.proofs.reserves`): BIP322 proofs of control of
the custodian's addresses over a challenge bound to the liabilities root, and
their balances at the height, verified by SPV.
Solvency (:mod:`~hashnation.proofs.attestation`): reserves against
liabilities per asset, as a canonical JSON attestation and its SHA-256.
Audit (:mod:`~hashnation.proofs.audit`) and BitMEX's published format
(:mod:`~hashnation.proofs.bitmex`) complete the verifiers.
"""

from hashnation.proofs.assets import ASSETS, Asset, get_asset
from hashnation.proofs.attestation import (
    AssetSolvency,
    SolvencyAttestation,
    attest,
    attestation_digest,
    canonical_attestation,
    check_attestation,
    solvency,
)
from hashnation.proofs.audit import (
    AuditReport,
    DisclosedLeaves,
    audit_leaves,
    audit_proofs,
    audit_reserves,
    format_disclosed_leaves,
    parse_disclosed_leaves,
)
from hashnation.proofs.balances import Balances, parse_balances_csv, read_balances_csv
from hashnation.proofs.bitmex import BitmexReport, BitmexTree, parse_bitmex, verify_bitmex
from hashnation.proofs.canonical import canonical_json, sha256_hex
from hashnation.proofs.documents import (
    AssetInclusion,
    AssetRoot,
    DeclaredReserve,
    InclusionProof,
    LeafProof,
    LiabilitiesRoot,
    PathStep,
    ReserveAddress,
    ReserveClaim,
    load_document,
    parse_document,
)
from hashnation.proofs.errors import ProofError, ProofInputError
from hashnation.proofs.liabilities import (
    Check,
    InclusionReport,
    Liabilities,
    build_liabilities,
    liabilities_digest,
    verify_inclusion,
)
from hashnation.proofs.reserves import (
    ControlResult,
    ReserveProof,
    challenge_message,
    prove_reserves,
    verify_bip322,
    verify_control,
)

__all__ = [
    "ASSETS",
    "Asset",
    "AssetInclusion",
    "AssetRoot",
    "AssetSolvency",
    "AuditReport",
    "Balances",
    "BitmexReport",
    "BitmexTree",
    "Check",
    "ControlResult",
    "DeclaredReserve",
    "DisclosedLeaves",
    "InclusionProof",
    "InclusionReport",
    "LeafProof",
    "Liabilities",
    "LiabilitiesRoot",
    "PathStep",
    "ProofError",
    "ProofInputError",
    "ReserveAddress",
    "ReserveClaim",
    "ReserveProof",
    "SolvencyAttestation",
    "attest",
    "attestation_digest",
    "audit_leaves",
    "audit_proofs",
    "audit_reserves",
    "build_liabilities",
    "canonical_attestation",
    "canonical_json",
    "challenge_message",
    "check_attestation",
    "format_disclosed_leaves",
    "get_asset",
    "liabilities_digest",
    "load_document",
    "parse_balances_csv",
    "parse_bitmex",
    "parse_disclosed_leaves",
    "parse_document",
    "prove_reserves",
    "read_balances_csv",
    "sha256_hex",
    "solvency",
    "verify_bip322",
    "verify_bitmex",
    "verify_control",
    "verify_inclusion",
]
