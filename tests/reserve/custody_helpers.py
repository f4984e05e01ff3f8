"""Test-side cosigners and funding transactions for the custody tests.

The private keys live here, in the tests, and nowhere else: each cosigner's root key is made
from ``os.urandom`` when a test asks for one, and signs through btclib_wallet's
``SoftwareSigner``, a ``KeyManager`` that answers for the keys its PSBT origins name. The
platform code under test only ever sees the cosigners' xpubs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from btclib.script import Witness
from btclib.tx import OutPoint, Tx, TxIn, TxOut
from btclib_wallet.bip32 import bip32
from btclib_wallet.psbt import Psbt, sign
from btclib_wallet.psbt_signer import SoftwareSigner

from hashnation.reserve.custody import SpendableUtxo
from hashnation.reserve.descriptors import WatchDescriptor, derive_addresses

TESTNET_XPRV_VERSION = bytes.fromhex("04358394")
ACCOUNT_PATH = "48h/1h/0h/2h"  # BIP48 testnet multisig, native segwit
NUMS_KEY = "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0"  # BIP341 H
DESTINATION = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"  # BIP173 testnet P2WPKH
MAINNET_DESTINATION = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


@dataclass(frozen=True)
class Cosigner:
    """One cosigner: a random root key (test only) and its account xpub."""

    root: str

    @classmethod
    def new(cls) -> Cosigner:
        return cls(bip32.rootxprv_from_seed(os.urandom(32), TESTNET_XPRV_VERSION))

    @property
    def fingerprint(self) -> str:
        return bip32.fingerprint(self.root).hex()

    def key(self, path: str = ACCOUNT_PATH) -> str:
        """``[fingerprint/path]tpub...``: the key expression a descriptor holds."""
        xpub = bip32.xpub_from_xprv(bip32.derive(self.root, f"m/{path}"))
        return f"[{self.fingerprint}/{path}]{xpub}"

    def sign(self, psbt: Psbt) -> Psbt:
        """Sign every input this cosigner holds a key for (its own copy of the PSBT)."""
        signed, _inputs = sign(psbt, SoftwareSigner(self.root))
        return signed


def fund(
    descriptor: WatchDescriptor,
    amounts_sat: list[int],
    *,
    label: str = "treasury",
    branch: int = 0,
    first_index: int = 0,
    with_funding_tx: bool = True,
) -> tuple[Tx, list[SpendableUtxo]]:
    """A transaction paying ``amounts_sat`` to consecutive addresses of the descriptor."""
    addresses = derive_addresses(descriptor, first_index, len(amounts_sat), branch=branch)
    funding = Tx(
        2,
        0,
        [TxIn(OutPoint(os.urandom(32), 0), b"", 0xFFFFFFFD, Witness())],
        [
            TxOut(amount, bytes.fromhex(a.script_pubkey_hex))
            for amount, a in zip(amounts_sat, addresses, strict=True)
        ],
        check_validity=False,
    )
    raw = bytes(funding.serialize(include_witness=False, check_validity=False)).hex()
    utxos = [
        SpendableUtxo(
            txid=bytes(funding.id).hex(),
            vout=vout,
            value_sat=amount,
            script_pubkey_hex=a.script_pubkey_hex,
            label=label,
            branch=branch,
            index=a.index,
            funding_tx_hex=raw if with_funding_tx else None,
            height=900_000,
        )
        for vout, (amount, a) in enumerate(zip(amounts_sat, addresses, strict=True))
    ]
    return funding, utxos


def prevouts(utxos: list[SpendableUtxo], outpoints: list[str]) -> list[tuple[int, str]]:
    """(value_sat, script_pubkey_hex) of each outpoint, in the transaction's input order."""
    by_outpoint: dict[str, Any] = {u.outpoint: u for u in utxos}
    return [(by_outpoint[o].value_sat, by_outpoint[o].script_pubkey_hex) for o in outpoints]
