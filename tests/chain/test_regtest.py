"""The regtest chain: Core's genesis, real proof of work for regtest's target, a ChainSource."""

from __future__ import annotations

import pytest

from hashnation.chain.base import ChainSource
from hashnation.chain.headers import MAINNET, REGTEST, Checkpoint, HeaderStore, chain_params
from hashnation.chain.holdings import sync_headers, utxos_at
from hashnation.chain.regtest import REGTEST_GENESIS, RegtestChain, payment_transaction
from hashnation.errors import InputError, SpvError

WATCHED = bytes.fromhex("0014" + "11" * 20)
OTHER = bytes.fromhex("0014" + "22" * 20)


def test_genesis_is_bitcoin_cores_regtest_genesis() -> None:
    # CRegTestParams: assert(consensus.hashGenesisBlock == uint256{"0f9188f1...66e2206"})
    assert REGTEST_GENESIS.hash_hex() == (
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    )
    assert REGTEST_GENESIS.check_pow(REGTEST.pow_limit)
    assert not REGTEST_GENESIS.check_pow(MAINNET.pow_limit)


def test_mainnet_rules_refuse_regtest_headers() -> None:
    with pytest.raises(SpvError, match="expected valid proof of work"):
        HeaderStore(Checkpoint(0, REGTEST_GENESIS))


def test_chain_params_by_name() -> None:
    assert chain_params("regtest") is REGTEST
    with pytest.raises(InputError, match=r"got 'testnet', expected one of mainnet, regtest"):
        chain_params("testnet")


def test_mined_blocks_validate_and_prove_inclusion() -> None:
    chain = RegtestChain()
    assert isinstance(chain, ChainSource)
    raws = [payment_transaction([(WATCHED, 1_000 + n), (OTHER, 7)], tag=n) for n in range(5)]
    chain.mine(raws[:3])
    chain.mine(raws[3:])
    chain.mine()
    store = HeaderStore(chain.checkpoint(), REGTEST)
    assert sync_headers(chain, store) == 3
    holdings = utxos_at(chain, [WATCHED.hex()], 3, store)
    assert holdings.total_sat == sum(1_000 + n for n in range(5))
    assert set(holdings.funding_transactions) == {u.txid for u in holdings.utxos}


def test_a_spend_leaves_the_utxo_set() -> None:
    chain = RegtestChain()
    fund = payment_transaction([(WATCHED, 50_000)], tag=1)
    chain.mine([fund])
    txid = chain.address_history(WATCHED.hex())[0].txid
    chain.mine([payment_transaction([(OTHER, 49_000)], spends=[(txid, 0)])])
    store = HeaderStore(chain.checkpoint(), REGTEST)
    sync_headers(chain, store)
    assert utxos_at(chain, [WATCHED.hex()], 1, store).total_sat == 50_000
    assert utxos_at(chain, [WATCHED.hex()], 2, store).total_sat == 0


def test_regtest_bits_never_change() -> None:
    chain = RegtestChain()
    chain.mine()
    store = HeaderStore(chain.checkpoint(), REGTEST)
    header = bytearray(chain.block_header(1))
    header[72:76] = (0x207FFFFE).to_bytes(4, "little")
    with pytest.raises(SpvError, match="regtest never retargets"):
        store.add(bytes(header))


def test_duplicate_transaction_refused() -> None:
    chain = RegtestChain()
    raw = payment_transaction([(WATCHED, 1)], tag=9)
    chain.mine([raw])
    with pytest.raises(InputError, match="a new transaction"):
        chain.mine([raw])
