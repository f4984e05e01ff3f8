"""Human-readable dump of a ``.ots`` proof, as ``ots info`` prints it."""

from __future__ import annotations

from hashnation.anchoring import _ots

__all__ = ["proof_info"]


def proof_info(proof: bytes) -> str:
    """Describe a proof: its file hash and the tree of operations and attestations.

    Parameters
    ----------
    proof
        The ``.ots`` file's bytes.

    Returns
    -------
    str
        ``File sha256 hash: <hex>``, ``Timestamp:`` and the library's tree
        (one operation per line, ``verify <attestation>`` at the leaves).

    Raises
    ------
    AnchorInputError
        If the proof does not parse.
    """
    file_hash_op, digest, stamp = _ots.parse_proof(proof)
    return f"File {file_hash_op} hash: {digest.hex()}\nTimestamp:\n{_ots.str_tree(stamp)}"
