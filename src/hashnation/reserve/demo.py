"""An example reserve on a regtest chain, for demonstrations, tests and benchmarks.

It copies El Salvador's practice of buying one bitcoin a day into a fresh address:
each block of the chain stands for a day of purchases, every purchase pays the next
receive address of a watch-only descriptor, and now and then an output is spent
with change back to the descriptor's change branch. The chain is regtest (real proof
of work for regtest's target, mined here), so every report built on it says so.

The descriptor's key is BIP32 test vector 1's master public key: public, widely
known, and holding nothing on any real chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.chain.transactions import parse_transaction
from hashnation.errors import InputError
from hashnation.reserve.descriptors import ReserveDescriptors, derive_addresses

__all__ = ["DEMO_DESCRIPTOR", "DemoReserve", "demo_reserve"]

DEMO_DESCRIPTOR = (
    "wpkh(xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8Y"
    "tGqsefD265TMg7usUDFdp6W1EGMcet8/<0;1>/*)"
)
"""Watch-only descriptor of the example reserve (multipath: receive and change)."""

_SELLER = bytes.fromhex("0014" + "5e" * 20)
_PURCHASE_SAT = 100_000_000


@dataclass(slots=True)
class DemoReserve:
    """The example reserve and its chain.

    Attributes
    ----------
    chain
        The regtest chain holding the reserve's transactions.
    reserve
        The reserve's descriptors (label ``"treasury"``).
    held_sat
        Reserve balance after each height [sat] (what its ledger would say).
    """

    chain: RegtestChain
    reserve: ReserveDescriptors
    held_sat: dict[int, int] = field(default_factory=dict)

    @property
    def descriptors(self) -> dict[str, str]:
        """Descriptor label to normalized text."""
        return {label: desc.normalized for label, desc in self.reserve.items()}


def demo_reserve(purchases: int = 60, *, per_block: int = 1, spend_every: int = 0) -> DemoReserve:
    """Mine an example reserve: ``purchases`` payments of 1 BTC to fresh addresses.

    Parameters
    ----------
    purchases
        Number of 1 BTC purchases, each to the next receive address (>= 1).
    per_block
        Purchases mined per block (>= 1).
    spend_every
        Every this many blocks, spend the oldest output: 0.25 BTC leaves the reserve
        and 0.75 BTC returns to the next change address; 0 never spends.

    Returns
    -------
    DemoReserve
        The chain (one final empty block on top) and the reserve.
    """
    for name, value in (("purchases", purchases), ("per_block", per_block)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(name, value, "an int >= 1")
    if isinstance(spend_every, bool) or not isinstance(spend_every, int) or spend_every < 0:
        raise InputError("spend_every", spend_every, "an int >= 0")
    reserve = ReserveDescriptors()
    desc = reserve.add("treasury", DEMO_DESCRIPTOR)
    receive = derive_addresses(desc, 0, purchases)
    spends = purchases // per_block // spend_every + 1 if spend_every else 0
    change = derive_addresses(desc, 0, spends, change=True) if spends else []
    chain = RegtestChain()
    demo = DemoReserve(chain, reserve)
    held = 0
    unspent: list[tuple[str, int, int]] = []
    made = 0
    block = 0
    changes = 0
    while made < purchases:
        block += 1
        txs = []
        for _ in range(min(per_block, purchases - made)):
            script = bytes.fromhex(receive[made].script_pubkey_hex)
            raw = payment_transaction([(script, _PURCHASE_SAT)], tag=made)
            txs.append(raw)
            unspent.append((parse_transaction(raw).txid_hex, 0, _PURCHASE_SAT))
            held += _PURCHASE_SAT
            made += 1
        if spend_every and block % spend_every == 0 and unspent:
            txid, vout, value = unspent.pop(0)
            back = value * 3 // 4
            script = bytes.fromhex(change[changes].script_pubkey_hex)
            raw = payment_transaction(
                [(_SELLER, value - back), (script, back)], spends=[(txid, vout)]
            )
            txs.append(raw)
            unspent.append((parse_transaction(raw).txid_hex, 1, back))
            held += back - value
            changes += 1
        height = chain.mine(txs)
        demo.held_sat[height] = held
    demo.held_sat[chain.mine()] = held
    return demo
