"""Invoice addresses from the programme's watch-only descriptor.

Each invoice gets the receive address at the next unused child index of the
programme's descriptor (branch 0 of a ``/<0;1>/*`` multipath descriptor); refund
change goes to the change branch (branch 1). The service keeps the next index in the
database and hands it out under a row lock, and the invoices table holds the index and
the address as unique columns: an address is never given to two invoices.

The descriptor must be ranged and multipath (``.../<0;1>/*``), hold public keys only
(:func:`~hashnation.reserve.descriptors.parse_descriptor` refuses private key material),
and be a kind the custody module can spend, so that refunds can be built as PSBTs.
"""

from __future__ import annotations

from dataclasses import dataclass

from embit.networks import NETWORKS
from embit.script import Script

from hashnation.errors import DescriptorError, InputError
from hashnation.reserve.descriptors import WatchDescriptor, derive_addresses, parse_descriptor

__all__ = ["InvoiceAddress", "invoice_address", "programme_descriptor", "script_address"]

_FIELD = "descriptor"


@dataclass(frozen=True, slots=True)
class InvoiceAddress:
    """The address of one invoice.

    Parameters
    ----------
    index
        Child index on the receive branch.
    address
        Address on the descriptor's network.
    script_pubkey_hex
        Output script, lowercase hex.
    """

    index: int
    address: str
    script_pubkey_hex: str


def programme_descriptor(text: str) -> WatchDescriptor:
    """Parse and check the programme's descriptor.

    Parameters
    ----------
    text
        Output script descriptor, e.g. ``wpkh([fp/84h/1h/0h]tpub.../<0;1>/*)``.

    Returns
    -------
    WatchDescriptor
        The parsed descriptor.

    Raises
    ------
    DescriptorError
        If it is malformed, not ranged, or without a ``<0;1>`` receive/change pair.
    PrivateKeyError
        If it holds private key material (never repeated in the message).
    """
    descriptor = parse_descriptor(text)
    if not descriptor.is_ranged or descriptor.branch_count != 2:
        raise DescriptorError(
            _FIELD,
            str(descriptor),
            "a ranged multipath descriptor ending /<0;1>/* (receive and change branches)",
        )
    return descriptor


def invoice_address(descriptor: WatchDescriptor, index: int) -> InvoiceAddress:
    """Derive the receive address at ``index``.

    Parameters
    ----------
    descriptor
        The programme's descriptor.
    index
        Child index, 0 to 2^31 - 1.

    Returns
    -------
    InvoiceAddress
        Index, address and script.

    Raises
    ------
    InputError
        If ``index`` is out of range.
    """
    derived = derive_addresses(descriptor, index, 1, branch=0)
    if not derived:
        raise InputError("index", index, "an index the descriptor derives")
    one = derived[0]
    return InvoiceAddress(one.index, one.address, one.script_pubkey_hex)


def script_address(script_pubkey: bytes, network: str) -> str | None:
    """Return the address of an output script on a network, or None if it has none.

    Parameters
    ----------
    script_pubkey
        Locking script.
    network
        ``"main"`` or ``"test"``.

    Returns
    -------
    str or None
        The address (P2PKH, P2SH, SegWit v0 or v1), or None for scripts without one.
    """
    if network not in NETWORKS:
        raise InputError("network", network, "main or test")
    try:
        return str(Script(script_pubkey).address(NETWORKS[network]))
    except Exception:
        return None
