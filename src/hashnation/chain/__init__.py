"""Chain access: one Protocol, Bitcoin Core / Esplora / Electrum adapters, SPV checks.

* :mod:`~hashnation.chain.transactions` parses raw transactions and blocks;
* :mod:`~hashnation.chain.merkle` builds and checks merkle roots, branches and
  Bitcoin Core's partial merkle trees (``gettxoutproof``);
* :mod:`~hashnation.chain.headers` keeps a validated header chain from a checkpoint;
* :mod:`~hashnation.chain.base` defines :class:`ChainSource`, which
  :class:`BitcoindSource`, :class:`EsploraSource` and :class:`ElectrumSource` implement;
* :mod:`~hashnation.chain.holdings` rebuilds and verifies UTXOs at a past height.
"""

from hashnation.chain.base import ChainSource, MerkleProof, TxRef
from hashnation.chain.bitcoind import BitcoindSource, CurrentUtxo
from hashnation.chain.electrum import ElectrumSource
from hashnation.chain.esplora import EsploraSource
from hashnation.chain.headers import Checkpoint, HeaderStore
from hashnation.chain.holdings import Holdings, Utxo, sync_headers, utxos_at
from hashnation.chain.merkle import (
    MerkleBlock,
    merkle_branch,
    merkle_root,
    verify_merkle_branch,
)
from hashnation.chain.transactions import Block, Transaction, parse_block, parse_transaction

__all__ = [
    "BitcoindSource",
    "Block",
    "ChainSource",
    "Checkpoint",
    "CurrentUtxo",
    "ElectrumSource",
    "EsploraSource",
    "HeaderStore",
    "Holdings",
    "MerkleBlock",
    "MerkleProof",
    "Transaction",
    "TxRef",
    "Utxo",
    "merkle_branch",
    "merkle_root",
    "parse_block",
    "parse_transaction",
    "sync_headers",
    "utxos_at",
    "verify_merkle_branch",
]
