"""The JSON documents of the proofs pillar, version 1, as pydantic models.

Three files come out of a liabilities build and two more out of a reserve
proof; each carries ``format`` and ``version`` so that a reader knows what it
holds before reading further:

======================================  ======================================
``format``                              model
======================================  ======================================
``hashnation-por-liabilities-root``     :class:`LiabilitiesRoot` (``root.json``)
``hashnation-por-inclusion-proof``      :class:`InclusionProof` (``proofs/<id>.json``)
``hashnation-por-reserves``             :class:`ReserveClaim` (``reserves.json``)
``hashnation-por-attestation``          :class:`~hashnation.proofs.attestation.SolvencyAttestation`
======================================  ======================================

Conventions, shared by all: digests and nonces are 64 lower-case hex digits;
amounts, sums and totals are **decimal strings** (``"150000000"``, no sign, no
leading zero, at most ``2**63 - 1``) so that JavaScript verifiers, whose
numbers stop being exact at ``2**53``, read them exactly; heights, indices and
counts are JSON integers. Unknown keys are refused. Documents are written with
sorted keys; digests are taken over the canonical form
(:func:`hashnation.proofs.canonical.canonical_json`). The JSON Schemas of
these models are published in ``docs/`` (:func:`json_schemas`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from hashnation.proofs.assets import get_asset
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import MAX_AMOUNT, MAX_PARTS, tree_depth

__all__ = [
    "AMOUNT_PATTERN",
    "CUSTOMER_ID_PATTERN",
    "Amount",
    "AssetCode",
    "AssetInclusion",
    "AssetRoot",
    "CustodianId",
    "CustomerId",
    "DeclaredReserve",
    "Hex32",
    "InclusionProof",
    "LeafProof",
    "LiabilitiesRoot",
    "PathStep",
    "ReserveAddress",
    "ReserveClaim",
    "dump_json",
    "json_schemas",
    "load_document",
    "parse_document",
]

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,18})$"
"""Decimal string of an amount (range-checked to ``2**63 - 1`` on reading)."""
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"
"""A customer id: 1 to 128 ASCII letters, digits and ``. _ @ + -``, not starting with a symbol."""
HEIGHT_MAX = 2**31 - 1
"""Largest block height accepted [blocks]."""


def _amount(value: object) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > 1 and value[0] == "0":
            raise ValueError("an amount without leading zeros")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError("a decimal string of an integer amount (smallest unit)")
    if not 0 <= number <= MAX_AMOUNT:
        raise ValueError(f"an amount in [0, 2**63 - 1] ({MAX_AMOUNT})")
    return number


Amount = Annotated[
    int,
    BeforeValidator(_amount),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "description": "Integer amount in the asset's smallest unit, as a decimal "
            "string, at most 2**63 - 1 (9223372036854775807).",
        }
    ),
]
"""An amount [smallest unit of the asset]: ``int`` in Python, decimal string in JSON."""

Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""32 bytes as 64 lower-case hex digits."""
AssetCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,11}$")]
"""An asset code (``BTC``)."""
CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
"""A customer id (also the name of the customer's proof file)."""
CustodianId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A custodian id, as the regulator's register names it."""
Height = Annotated[int, Field(ge=0, le=HEIGHT_MAX, strict=True)]
"""A block height [blocks]."""


def dump_json(document: Any, *, pretty: bool = False) -> str:
    """Write a JSON document with sorted keys and a trailing newline.

    Parameters
    ----------
    document
        A JSON-ready document (amounts already decimal strings, no floats).
    pretty
        Two-space indentation; otherwise compact, which is the canonical
        form of :mod:`hashnation.proofs.canonical` (and uses the C encoder).

    Returns
    -------
    str
        The text.
    """
    if pretty:
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def to_json(self, *, pretty: bool = True) -> str:
        """Serialise the document: sorted keys, a trailing newline.

        Parameters
        ----------
        pretty
            Two-space indentation; otherwise the compact canonical form
            (:func:`dump_json`), much faster to write.
        """
        return dump_json(self.model_dump(mode="json"), pretty=pretty)


class AssetRoot(_Document):
    """The root of one asset's tree.

    Parameters
    ----------
    asset
        Asset code.
    unit
        Smallest unit every amount counts (``sat``).
    digest
        Root digest (hex).
    total
        Sum of all leaves: the custodian's liabilities in this asset [unit].
    leaf_count
        Leaves, padding excluded.
    depth
        Levels above the leaves, ``ceil(log2(leaf_count))``: the length of every path.
    """

    asset: AssetCode
    unit: str
    digest: Hex32
    total: Amount
    leaf_count: int = Field(ge=1, le=2**40, strict=True)
    depth: int = Field(ge=0, le=40, strict=True)

    @model_validator(mode="after")
    def _consistent(self) -> AssetRoot:
        if get_asset(self.asset).unit != self.unit:
            raise ValueError(f"unit {get_asset(self.asset).unit!r} (not {self.unit!r})")
        if self.depth != tree_depth(self.leaf_count):
            raise ValueError(
                f"depth {tree_depth(self.leaf_count)} = ceil(log2({self.leaf_count})) "
                f"(not {self.depth})"
            )
        return self


def _sorted_unique(assets: list[str], what: str) -> None:
    if assets != sorted(set(assets)):
        raise ValueError(f"{what} sorted by asset code, each once (not {assets})")


class LiabilitiesRoot(_Document):
    """``root.json``: what the custodian publishes about its liabilities at a height.

    Parameters
    ----------
    format
        ``hashnation-por-liabilities-root``.
    version
        1.
    custodian
        Custodian id.
    height
        Block height the balances were taken at [blocks].
    assets
        One root per asset, sorted by asset code.
    """

    format: Literal["hashnation-por-liabilities-root"] = "hashnation-por-liabilities-root"
    version: Literal[1] = 1
    custodian: CustodianId
    height: Height
    assets: list[AssetRoot] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> LiabilitiesRoot:
        _sorted_unique([a.asset for a in self.assets], "assets")
        return self

    def asset_root(self, asset: str) -> AssetRoot:
        """Root of one asset.

        Raises
        ------
        ProofInputError
            If the asset has no tree here.
        """
        for root in self.assets:
            if root.asset == asset:
                return root
        raise ProofInputError("asset", asset, f"one of {[a.asset for a in self.assets]}")


class PathStep(_Document):
    """A sibling on the way from a leaf to the root.

    Parameters
    ----------
    digest
        The sibling's digest (hex).
    sum
        The sibling's sum [smallest unit].
    """

    digest: Hex32
    sum: Amount


class LeafProof(_Document):
    """One leaf of a customer and its path to the root.

    Parameters
    ----------
    part
        Part number of the balance (0 when not split).
    amount
        Amount of this leaf [smallest unit].
    index
        Position of the leaf (0 = leftmost); bit ``k`` says whether the node
        at level ``k`` is a right (1) or left (0) child.
    path
        Siblings, leaf level first.
    """

    part: int = Field(ge=0, lt=MAX_PARTS, strict=True)
    amount: Amount
    index: int = Field(ge=0, lt=2**40, strict=True)
    path: list[PathStep] = Field(max_length=40)


class AssetInclusion(_Document):
    """A customer's leaves in one asset's tree.

    Parameters
    ----------
    asset
        Asset code.
    balance
        The customer's balance: the sum of the leaves' amounts [smallest unit].
    root
        The tree's root as the custodian published it.
    leaves
        The leaves holding the balance, one per part.
    """

    asset: AssetCode
    balance: Amount
    root: AssetRoot
    leaves: list[LeafProof] = Field(min_length=1, max_length=MAX_PARTS)

    @model_validator(mode="after")
    def _same_asset(self) -> AssetInclusion:
        if self.root.asset != self.asset:
            raise ValueError(f"root.asset {self.asset!r} (not {self.root.asset!r})")
        return self


class InclusionProof(_Document):
    """``proofs/<customer_id>.json``: what a customer receives (keep it private).

    Parameters
    ----------
    format
        ``hashnation-por-inclusion-proof``.
    version
        1.
    custodian
        Custodian id.
    height
        Block height of the balances [blocks].
    customer_id
        The customer.
    nonce
        The customer's nonce at this height (hex); with it anyone holding the
        proof can recompute the leaves, so the file is the customer's alone.
    assets
        One entry per asset the customer holds, sorted by asset code.
    """

    format: Literal["hashnation-por-inclusion-proof"] = "hashnation-por-inclusion-proof"
    version: Literal[1] = 1
    custodian: CustodianId
    height: Height
    customer_id: CustomerId
    nonce: Hex32
    assets: list[AssetInclusion] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> InclusionProof:
        _sorted_unique([a.asset for a in self.assets], "assets")
        return self


class ReserveAddress(_Document):
    """An address the custodian controls, with its BIP322 signature of the challenge.

    Parameters
    ----------
    asset
        ``BTC`` (the only asset proved on chain).
    address
        The address (any type BIP322 covers: P2PKH, P2SH-P2WPKH, P2WPKH, P2WSH, P2TR).
    signature
        BIP322 signature of :func:`~hashnation.proofs.reserves.challenge_message`
        (``smp``/``ful``/``pof`` prefix and base64).
    """

    asset: AssetCode
    address: str = Field(min_length=14, max_length=90)
    signature: str = Field(min_length=1, max_length=100_000)


class DeclaredReserve(_Document):
    """Reserves of an asset the Bitcoin chain cannot show (e.g. a stablecoin).

    Parameters
    ----------
    asset
        Asset code.
    amount
        Amount declared [smallest unit].
    evidence
        Where the figure comes from (an issuer attestation, a bank statement).
    """

    asset: AssetCode
    amount: Amount
    evidence: str = Field(min_length=1, max_length=1000)


class ReserveClaim(_Document):
    """``reserves.json``: the custodian's claim of reserves at a height.

    Parameters
    ----------
    format
        ``hashnation-por-reserves``.
    version
        1.
    custodian
        Custodian id.
    height
        Block height the reserves are proved at [blocks].
    addresses
        Controlled addresses with their signatures.
    declared
        Reserves of assets not on the Bitcoin chain, flagged as declared.
    """

    format: Literal["hashnation-por-reserves"] = "hashnation-por-reserves"
    version: Literal[1] = 1
    custodian: CustodianId
    height: Height
    addresses: list[ReserveAddress] = Field(default_factory=list)
    declared: list[DeclaredReserve] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ReserveClaim:
        seen = [a.address for a in self.addresses]
        if len(seen) != len(set(seen)):
            raise ValueError("each address once")
        _sorted_unique([d.asset for d in self.declared], "declared")
        return self


Model = TypeVar("Model", bound=BaseModel)


def _one_line(exc: ValidationError, where: str) -> ProofInputError:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    field = f"{where}: {loc}" if loc else where
    message = str(error["msg"]).removeprefix("Value error, ")
    value: Any = error.get("input")
    if isinstance(value, dict | list):
        value = "<object>" if isinstance(value, dict) else "<list>"
    return ProofInputError(field, value, message)


def parse_document(model: type[Model], text: str | bytes, where: str = "document") -> Model:
    """Read a JSON document into a model, or refuse it in one line.

    Parameters
    ----------
    model
        The document's model (:class:`InclusionProof`, ...).
    text
        The JSON text.
    where
        Name of the source (a file name), for messages.

    Returns
    -------
    Model
        The validated document.

    Raises
    ------
    ProofInputError
        If the text is not JSON or does not satisfy the model; the message
        names the first offending field.
    """
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProofInputError(where, str(exc), "a JSON document") from None
    if isinstance(data, dict) and "format" in model.model_fields:
        for key in ("format", "version"):
            if key not in data:
                raise ProofInputError(f"{where}: {key}", None, f"{key} given (versioned document)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _one_line(exc, where) from None


def load_document(model: type[Model], path: Path) -> Model:
    """Read a JSON document from a file (see :func:`parse_document`).

    Parameters
    ----------
    model
        The document's model.
    path
        The file.

    Returns
    -------
    Model
        The validated document.

    Raises
    ------
    ProofInputError
        If the file cannot be read or its content is refused.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProofInputError(str(path), exc.strerror or str(exc), "a readable file") from None
    return parse_document(model, raw, Path(path).name)


SCHEMA_FILES = {
    "por-liabilities-root.schema.json": "LiabilitiesRoot",
    "por-inclusion-proof.schema.json": "InclusionProof",
    "por-reserves.schema.json": "ReserveClaim",
    "por-attestation.schema.json": "SolvencyAttestation",
}
"""The published JSON Schema files (``docs/``) and the model each describes."""


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas (draft 2020-12) of the version-1 documents, by file name.

    Returns
    -------
    dict
        File name (as in ``docs/``) to schema.
    """
    from hashnation.proofs.attestation import SolvencyAttestation

    models: dict[str, type[BaseModel]] = {
        "LiabilitiesRoot": LiabilitiesRoot,
        "InclusionProof": InclusionProof,
        "ReserveClaim": ReserveClaim,
        "SolvencyAttestation": SolvencyAttestation,
    }
    schemas = {}
    for name, model_name in SCHEMA_FILES.items():
        schema = models[model_name].model_json_schema()
        schema["required"] = ["format", "version", *schema.get("required", [])]
        schemas[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$comment": "Generated from hashnation.proofs (format version 1); do not edit.",
            **schema,
        }
    return schemas
