"""A validated chain of mainnet block headers, kept in memory, for SPV checks.

:class:`HeaderStore` starts from a trusted :class:`Checkpoint` (a height and
its header, e.g. one of bitcoinj's checkpoints, which are the first block of
a retarget period and carry the cumulative chain work) and accepts a header
for the next height only if

* it links: its ``prev_block_hash`` is the hash of the current tip;
* its ``nBits`` are right. Inside a retarget period they equal the previous
  header's. At a retarget boundary (height a multiple of 2016) they must
  equal :func:`~hashnation.bitcoin.difficulty.next_work_required` of the
  previous period's first and last header times. That exact check needs the
  first header's time, known when the store holds the whole previous period or
  when the checkpoint gives it. Without it the new target must still lie within
  the factor-4 clamp of the old one;
* its time is above the median of the previous 11 headers (when held);
* it carries enough proof of work for those bits
  (:meth:`~hashnation.bitcoin.header.BlockHeader.check_pow`).

The rules are mainnet's by default. :data:`REGTEST` (Bitcoin Core's
``-regtest`` chain: proof-of-work limit ``0x7fffff`` followed by 29 zero bytes,
no retargeting) is there for reports built from a private test chain, which
anyone can mine on a laptop; a report says which chain it is for, and a
verifier shown a regtest report knows it proves nothing about mainnet.
Testnet's 20-minute minimum-difficulty blocks are refused. The store tracks
height → header, the tip and the cumulative work, and checks
merkle inclusion of a transaction against the header at a height.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hashnation.bitcoin.difficulty import (
    POW_LIMIT,
    RETARGET_INTERVAL_BLOCKS,
    TARGET_TIMESPAN_S,
    compact_to_target,
    next_work_required,
    work_from_target,
)
from hashnation.bitcoin.header import BlockHeader
from hashnation.chain._codec import display_hex
from hashnation.chain.merkle import as_internal_hash, root_from_branch
from hashnation.errors import ConsensusError, InputError, SpvError

__all__ = [
    "CHAINS",
    "MAINNET",
    "MEDIAN_TIME_SPAN",
    "REGTEST",
    "ChainParams",
    "Checkpoint",
    "HeaderStore",
    "chain_params",
]

MEDIAN_TIME_SPAN: int = 11
"""Headers whose median time a new header's time must exceed (Core's ``nMedianTimeSpan``)."""


@dataclass(frozen=True, slots=True)
class ChainParams:
    """The proof-of-work rules of one chain.

    Attributes
    ----------
    name
        ``"mainnet"`` or ``"regtest"``.
    pow_limit
        Easiest allowed target (Core's ``consensus.powLimit``).
    retargeting
        False where the target never changes (Core's ``fPowNoRetargeting``):
        every header must carry its predecessor's bits.
    """

    name: str
    pow_limit: int
    retargeting: bool


MAINNET: ChainParams = ChainParams("mainnet", POW_LIMIT, True)
"""Bitcoin mainnet: retarget every 2016 blocks within a factor of 4."""

REGTEST: ChainParams = ChainParams("regtest", int("7fffff" + "00" * 29, 16), False)
"""Bitcoin Core's regression-test chain (``src/kernel/chainparams.cpp``, ``CRegTestParams``)."""

CHAINS: dict[str, ChainParams] = {params.name: params for params in (MAINNET, REGTEST)}
"""Chains a :class:`HeaderStore` can validate, by name."""


def chain_params(name: object, field: str = "network") -> ChainParams:
    """Return the :class:`ChainParams` called ``name``.

    Raises
    ------
    InputError
        If ``name`` is not one of :data:`CHAINS`.
    """
    if not isinstance(name, str) or name not in CHAINS:
        raise InputError(field, name, f"one of {', '.join(sorted(CHAINS))}")
    return CHAINS[name]


def _as_header(header: BlockHeader | bytes | str, field: str) -> BlockHeader:
    if isinstance(header, BlockHeader):
        return header
    try:
        if isinstance(header, str):
            return BlockHeader.from_hex(header)
        return BlockHeader.from_bytes(header)
    except ConsensusError as exc:
        raise SpvError(f"{field}: {exc}") from exc


def _check_height(field: str, height: object) -> int:
    if isinstance(height, bool) or not isinstance(height, int) or height < 0:
        raise InputError(field, height, "an int block height >= 0")
    return height


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A trusted starting point for a :class:`HeaderStore`.

    Parameters
    ----------
    height
        Height of the checkpoint block.
    header
        Its header (a :class:`BlockHeader`, 80 bytes or 160 hex digits).
    chainwork
        Cumulative work of the chain up to and including this block (as
        bitcoinj's checkpoints and Core's ``getblockheader`` give it). ``None``
        counts work from this block on: :attr:`HeaderStore.chainwork` is then
        the work of the checkpoint block and those added after it.
    period_start_time
        Time [s] of the first block of the retarget period holding
        ``height``. Known by itself when ``height`` is a multiple of 2016;
        otherwise give it to let the store check the next retarget exactly.
    """

    height: int
    header: BlockHeader
    chainwork: int | None = None
    period_start_time: int | None = None

    def __init__(
        self,
        height: int,
        header: BlockHeader | bytes | str,
        chainwork: int | None = None,
        period_start_time: int | None = None,
    ) -> None:
        _check_height("checkpoint.height", height)
        parsed = _as_header(header, "checkpoint.header")
        if chainwork is not None and (
            isinstance(chainwork, bool) or not isinstance(chainwork, int) or chainwork <= 0
        ):
            raise InputError("checkpoint.chainwork", chainwork, "an int > 0 or None")
        if period_start_time is not None and (
            isinstance(period_start_time, bool) or not isinstance(period_start_time, int)
        ):
            raise InputError(
                "checkpoint.period_start_time", period_start_time, "an int Unix time [s] or None"
            )
        if height % RETARGET_INTERVAL_BLOCKS == 0:
            if period_start_time not in (None, parsed.time):
                raise InputError(
                    "checkpoint.period_start_time",
                    period_start_time,
                    f"None or the checkpoint's own time {parsed.time} (first block of a period)",
                )
            period_start_time = parsed.time
        object.__setattr__(self, "height", height)
        object.__setattr__(self, "header", parsed)
        object.__setattr__(self, "chainwork", chainwork)
        object.__setattr__(self, "period_start_time", period_start_time)


class HeaderStore:
    """In-memory header chain from a trusted checkpoint, validated header by header.

    Parameters
    ----------
    checkpoint
        Where the chain starts. Its header must carry valid proof of work.
    params
        The chain's proof-of-work rules, :data:`MAINNET` by default.

    Raises
    ------
    SpvError
        If the checkpoint header fails proof of work.

    Examples
    --------
    >>> # store = HeaderStore(Checkpoint(0, genesis_header_hex))
    >>> # store.extend(headers_1_to_n); store.header_at(170)
    """

    def __init__(self, checkpoint: Checkpoint, params: ChainParams = MAINNET) -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise InputError("checkpoint", type(checkpoint).__name__, "a Checkpoint")
        if not isinstance(params, ChainParams):
            raise InputError("params", type(params).__name__, "a ChainParams")
        self._params = params
        header = checkpoint.header
        if not header.check_pow(params.pow_limit):
            raise SpvError(
                f"checkpoint header {header.hash_hex()} at height {checkpoint.height}: "
                f"hash above the target of bits 0x{header.bits:08x}, expected valid proof of work"
            )
        self._base = checkpoint.height
        self._headers: list[BlockHeader] = [header]
        self._hashes: list[bytes] = [header.hash()]
        block_work = work_from_target(header.target())
        self._chainwork = checkpoint.chainwork if checkpoint.chainwork else block_work
        self._chainwork_is_total = checkpoint.chainwork is not None
        self._period_start_times: dict[int, int] = {}
        if checkpoint.period_start_time is not None:
            period = checkpoint.height // RETARGET_INTERVAL_BLOCKS
            self._period_start_times[period] = checkpoint.period_start_time

    # -- queries ---------------------------------------------------------------------------

    @property
    def params(self) -> ChainParams:
        """The chain's proof-of-work rules."""
        return self._params

    @property
    def base_height(self) -> int:
        """Height of the checkpoint, the lowest height held."""
        return self._base

    @property
    def tip_height(self) -> int:
        """Height of the highest header held."""
        return self._base + len(self._headers) - 1

    @property
    def tip(self) -> BlockHeader:
        """The highest header held."""
        return self._headers[-1]

    @property
    def chainwork(self) -> int:
        """Cumulative work up to the tip [H]: total if the checkpoint gave it, else since it."""
        return self._chainwork

    @property
    def chainwork_is_total(self) -> bool:
        """True when :attr:`chainwork` counts from genesis (the checkpoint gave its chainwork)."""
        return self._chainwork_is_total

    def __len__(self) -> int:
        """Return the number of headers held, checkpoint included."""
        return len(self._headers)

    def __contains__(self, height: object) -> bool:
        """Tell whether a header is held for ``height``."""
        return isinstance(height, int) and self._base <= height <= self.tip_height

    def header_at(self, height: int) -> BlockHeader:
        """Header at ``height``.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        BlockHeader
            The validated header.

        Raises
        ------
        SpvError
            If the store holds no header at that height.
        """
        _check_height("height", height)
        if height not in self:
            raise SpvError(
                f"header store: no header at height {height}, "
                f"expected a height from {self._base} to {self.tip_height}"
            )
        return self._headers[height - self._base]

    def hash_at(self, height: int) -> bytes:
        """Block hash at ``height``, internal order.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        bytes
            32 bytes.

        Raises
        ------
        SpvError
            If the store holds no header at that height.
        """
        self.header_at(height)
        return self._hashes[height - self._base]

    def confirmations(self, height: int, at_height: int | None = None) -> int:
        """Count confirmations of a block at ``height`` seen from ``at_height`` (default: the tip).

        Parameters
        ----------
        height
            Height of the block holding a transaction.
        at_height
            Height the count is taken at; the tip by default.

        Returns
        -------
        int
            ``at_height - height + 1``, at least 0.
        """
        top = self.tip_height if at_height is None else at_height
        return max(0, top - height + 1)

    # -- validation ------------------------------------------------------------------------

    def _expected_bits(self, height: int, header: BlockHeader) -> None:
        previous = self._headers[-1]
        where = f"header {header.hash_hex()} at height {height}"
        if height % RETARGET_INTERVAL_BLOCKS or not self._params.retargeting:
            if header.bits != previous.bits:
                raise SpvError(
                    f"{where}: bits 0x{header.bits:08x}, expected 0x{previous.bits:08x}"
                    + (
                        " (unchanged inside a retarget period)"
                        if self._params.retargeting
                        else f" ({self._params.name} never retargets)"
                    )
                )
            return
        period = height // RETARGET_INTERVAL_BLOCKS - 1
        first_time = self._period_start_times.get(period)
        if first_time is not None:
            expected = next_work_required(previous.bits, first_time, previous.time)
            if header.bits != expected:
                raise SpvError(
                    f"{where}: bits 0x{header.bits:08x}, expected 0x{expected:08x} "
                    f"(retarget from period start time {first_time} to {previous.time})"
                )
            return
        # First header of the period unknown: the new target must stay in the 4x clamp.
        easiest = next_work_required(previous.bits, 0, 4 * TARGET_TIMESPAN_S)
        hardest = next_work_required(previous.bits, 0, 0)
        try:
            target = compact_to_target(header.bits)
        except ConsensusError as exc:
            raise SpvError(f"{where}: {exc}") from exc
        if not compact_to_target(hardest) <= target <= compact_to_target(easiest):
            raise SpvError(
                f"{where}: bits 0x{header.bits:08x}, expected a retarget within "
                f"0x{hardest:08x} .. 0x{easiest:08x} (at most 4x from 0x{previous.bits:08x})"
            )

    def _check_time(self, height: int, header: BlockHeader) -> None:
        recent = self._headers[-MEDIAN_TIME_SPAN:]
        if len(recent) < MEDIAN_TIME_SPAN:
            return
        median = int(statistics.median_low(h.time for h in recent))
        if header.time <= median:
            raise SpvError(
                f"header {header.hash_hex()} at height {height}: time {header.time}, "
                f"expected above the median {median} of the previous {MEDIAN_TIME_SPAN} headers"
            )

    def add(self, header: BlockHeader | bytes | str) -> int:
        """Validate and append the header for height ``tip_height + 1``.

        Parameters
        ----------
        header
            A :class:`BlockHeader`, its 80 bytes or 160 hex digits.

        Returns
        -------
        int
            The new tip height.

        Raises
        ------
        SpvError
            If the header is malformed, does not link to the tip, has the wrong
            bits, a time not above the median of the last 11, or too little
            proof of work. The store is left unchanged.
        """
        height = self.tip_height + 1
        parsed = _as_header(header, f"header at height {height}")
        if parsed.prev_block_hash != self._hashes[-1]:
            raise SpvError(
                f"header {parsed.hash_hex()} at height {height}: prev_block_hash "
                f"{display_hex(parsed.prev_block_hash)}, expected the tip "
                f"{display_hex(self._hashes[-1])} at height {height - 1} (broken link)"
            )
        self._expected_bits(height, parsed)
        self._check_time(height, parsed)
        if not parsed.check_pow(self._params.pow_limit):
            raise SpvError(
                f"header {parsed.hash_hex()} at height {height}: hash above the target of "
                f"bits 0x{parsed.bits:08x}, expected valid proof of work"
            )
        self._headers.append(parsed)
        self._hashes.append(parsed.hash())
        self._chainwork += work_from_target(parsed.target())
        if height % RETARGET_INTERVAL_BLOCKS == 0:
            self._period_start_times[height // RETARGET_INTERVAL_BLOCKS] = parsed.time
        return height

    def extend(self, headers: Iterable[BlockHeader | bytes | str]) -> int:
        """Add headers in height order, stopping at the first invalid one.

        Parameters
        ----------
        headers
            Headers for ``tip_height + 1``, ``tip_height + 2``, ...

        Returns
        -------
        int
            The new tip height.

        Raises
        ------
        SpvError
            On the first invalid header; those before it stay added.
        """
        for header in headers:
            self.add(header)
        return self.tip_height

    def verify_inclusion(
        self, txid: bytes | str, branch: Sequence[bytes], index: int, height: int
    ) -> BlockHeader:
        """Check a merkle branch proves ``txid`` in the block at ``height``.

        Parameters
        ----------
        txid
            Transaction id: bytes in internal order or display-order hex.
        branch
            Sibling hashes, leaf level first, internal order.
        index
            Position of the transaction in the block.
        height
            Height of the block said to hold it.

        Returns
        -------
        BlockHeader
            The confirming header.

        Raises
        ------
        SpvError
            If no header is held at ``height``, the branch is malformed or does
            not fold to that header's merkle root.
        """
        header = self.header_at(height)
        txid_hex = display_hex(as_internal_hash(txid, "txid"))
        try:
            root = root_from_branch(txid, branch, index)
        except InputError as exc:
            raise SpvError(f"merkle proof of tx {txid_hex} at height {height}: {exc}") from exc
        if root != header.merkle_root:
            raise SpvError(
                f"merkle proof of tx {txid_hex} at height {height} (index {index}): root "
                f"{display_hex(root)}, expected the header's merkle root "
                f"{display_hex(header.merkle_root)}"
            )
        return header
