"""The three adapters against local servers serving real mainnet blocks 0..255."""

from __future__ import annotations

from typing import Any

import pytest

from hashnation.bitcoin.header import BlockHeader
from hashnation.chain import BitcoindSource, ChainSource, ElectrumSource, EsploraSource, TxRef
from hashnation.chain.merkle import MerkleBlock, merkle_branch
from hashnation.errors import ChainError, InputError, SpvError

SATOSHI_P2PK = (
    "410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84cc"
    "f9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac"
)
HAL_P2PK = (
    "4104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7"
    "df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac"
)
TX_170 = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
COINBASE_9 = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
SATOSHI_HISTORY = [
    TxRef(9, COINBASE_9),
    TxRef(170, TX_170),
    TxRef(181, "a16f3ce4dd5deb92d98ef5cf8afeaf0775ebca408f708b2146c4fb42b41e14be"),
    TxRef(182, "591e91f809d716912ca1d4a9295e70c3e78bab077683f79350f101da64588073"),
    TxRef(183, "12b5633bad1f9c167d523ad1aa1947b2732a865bf5414eab2f9e5ae5d5c191ba"),
    TxRef(248, "828ef3b079f9c23829c56fe86e85b4a69d9e06e5b54ea597eef5fb3ffef509fe"),
]


def test_adapters_implement_the_protocol(sources: dict[str, Any]) -> None:
    assert all(isinstance(s, ChainSource) for s in sources.values())


def test_tip_and_headers(source: Any, chain: Any) -> None:
    assert source.tip_height() == 255
    for height in (0, 1, 170, 255):
        raw = source.block_header(height)
        assert raw == chain.headers[height]
        assert BlockHeader.from_bytes(raw).hash_hex() == chain.hashes[height]


def test_history_of_satoshis_block_9_key(source: Any) -> None:
    assert source.address_history(SATOSHI_P2PK) == SATOSHI_HISTORY


def test_history_of_hal_finney(source: Any) -> None:
    assert source.address_history(HAL_P2PK) == [TxRef(170, TX_170)]


def test_history_of_an_unused_address(source: Any) -> None:
    assert source.address_history("1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3") == []


def test_raw_transaction(source: Any, chain: Any) -> None:
    assert source.raw_transaction(TX_170) == chain.txs[TX_170].raw
    assert source.raw_transaction(TX_170.upper()) == chain.txs[TX_170].raw


def test_merkle_proofs(source: Any, chain: Any) -> None:
    for txid, index in ((TX_170, 1), (chain.block_txids[170][0][::-1].hex(), 0)):
        proof = source.merkle_proof(txid, 170)
        assert (proof.txid, proof.height, proof.index) == (txid, 170, index)
        assert list(proof.branch) == merkle_branch(chain.block_txids[170], index)
        assert proof.branch_hex == [h[::-1].hex() for h in proof.branch]


def test_bitcoind_proof_keeps_the_merkle_block(sources: dict[str, Any], chain: Any) -> None:
    proof = sources["bitcoind"].merkle_proof(TX_170, 170)
    assert proof.merkle_block == chain.merkle_block([TX_170], chain.hashes[170])
    (match,) = MerkleBlock.from_bytes(proof.merkle_block).verify()
    assert match.txid_hex == TX_170


def test_all_adapters_agree(sources: dict[str, Any]) -> None:
    answers = []
    for source in sources.values():
        answers.append(
            (
                source.tip_height(),
                [source.block_header(h) for h in (0, 9, 170, 181, 255)],
                source.address_history(SATOSHI_P2PK),
                source.raw_transaction(COINBASE_9),
                source.merkle_proof(COINBASE_9, 9).branch,
                source.merkle_proof(TX_170, 170).branch,
            )
        )
    assert answers[0] == answers[1] == answers[2]


def test_proof_at_the_wrong_height_fails(source: Any) -> None:
    with pytest.raises(ChainError, match=source.url):
        source.merkle_proof(TX_170, 171)


def test_unknown_transaction_names_source_and_method(source: Any) -> None:
    missing = "00" * 32
    with pytest.raises(ChainError, match=source.url) as info:
        source.raw_transaction(missing)
    assert any(m in str(info.value) for m in ("getrawtransaction", "/tx/", "transaction.get"))


def test_bad_caller_input(source: Any) -> None:
    with pytest.raises(InputError, match="txid"):
        source.raw_transaction("not-a-txid")
    with pytest.raises(InputError, match="script"):
        source.address_history("neither address nor hex")


# -- Bitcoin Core specifics ----------------------------------------------------------------


def test_bitcoind_scantxoutset_today(sources: dict[str, Any]) -> None:
    utxos = sources["bitcoind"].scan_utxos_now([SATOSHI_P2PK, HAL_P2PK])
    assert [(u.txid, u.vout, u.value_sat, u.height) for u in utxos] == [
        (TX_170, 0, 1_000_000_000, 170),
        ("828ef3b079f9c23829c56fe86e85b4a69d9e06e5b54ea597eef5fb3ffef509fe", 1, 1_800_000_000, 248),
    ]


def test_bitcoind_without_txindex_uses_block_hashes(chain: Any, servers: Any) -> None:
    with servers.rpc_server(chain, txindex=False) as url:
        node = BitcoindSource(
            url, user=servers.RPC_USER, password=servers.RPC_PASSWORD, scan_from_height=160
        )
        with pytest.raises(ChainError, match=r"-5.*txindex"):
            node.raw_transaction(TX_170)
        assert node.address_history(HAL_P2PK) == [TxRef(170, TX_170)]
        assert node.raw_transaction(TX_170) == chain.txs[TX_170].raw


def test_bitcoind_scan_start_limits_history(chain: Any, servers: Any, rpc_url: str) -> None:
    node = BitcoindSource(
        rpc_url, user=servers.RPC_USER, password=servers.RPC_PASSWORD, scan_from_height=175
    )
    # Outputs funded before the scan start are not seen, nor their spends: block 181's
    # transaction shows up only because it pays change back to the same key.
    assert node.address_history(SATOSHI_P2PK) == SATOSHI_HISTORY[2:]
    node = BitcoindSource(
        rpc_url, user=servers.RPC_USER, password=servers.RPC_PASSWORD, scan_from_height=170
    )
    assert node.address_history(SATOSHI_P2PK) == SATOSHI_HISTORY[1:]


def test_bitcoind_wrong_password(rpc_url: str, servers: Any) -> None:
    node = BitcoindSource(rpc_url, user=servers.RPC_USER, password="wrong")
    with pytest.raises(ChainError, match="HTTP 401, credentials refused") as info:
        node.tip_height()
    assert "wrong" not in str(info.value)


def test_bitcoind_cookie_file(rpc_url: str, servers: Any, tmp_path: Any) -> None:
    cookie = tmp_path / ".cookie"
    cookie.write_text(f"{servers.RPC_USER}:{servers.RPC_PASSWORD}\n")
    assert BitcoindSource(rpc_url, cookie_file=cookie).tip_height() == 255
    with pytest.raises(ChainError, match="cookie file"):
        BitcoindSource(rpc_url, cookie_file=tmp_path / "missing").tip_height()


def test_bitcoind_rpc_error(sources: dict[str, Any]) -> None:
    node = sources["bitcoind"]
    with pytest.raises(ChainError, match=r"getblockhash\[9999\]: RPC error -8"):
        node.call("getblockhash", 9999)
    with pytest.raises(ChainError, match="RPC error -32601: Method not found"):
        node.call("stop")


def test_bitcoind_wallet_path(rpc_url: str, servers: Any) -> None:
    node = BitcoindSource(
        rpc_url + "/wallet/reserve", user=servers.RPC_USER, password=servers.RPC_PASSWORD
    )
    assert node.tip_height() == 255
    assert servers.RPC_PATHS[-1] == "/wallet/reserve"
    BitcoindSource(rpc_url, user=servers.RPC_USER, password=servers.RPC_PASSWORD).tip_height()
    assert servers.RPC_PATHS[-1] == "/"


def test_bitcoind_url_credentials_never_shown(rpc_url: str) -> None:
    node = BitcoindSource(rpc_url.replace("http://", "http://alice:secret@"))
    assert "secret" not in node.url and node.url == rpc_url


# -- Esplora and Electrum specifics ---------------------------------------------------------


def test_esplora_pages_through_history(esplora_url: str) -> None:
    # The test server returns 3 transactions per page: 6 need 3 requests.
    source = EsploraSource(esplora_url, max_pages=2)
    with pytest.raises(ChainError, match="more than 2 pages"):
        source.address_history(SATOSHI_P2PK)
    assert EsploraSource(esplora_url, max_pages=3).address_history(SATOSHI_P2PK) == (
        SATOSHI_HISTORY
    )


def test_esplora_address_route(esplora_url: str) -> None:
    assert EsploraSource(esplora_url).address_history("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == []


def test_electrum_skips_notifications(electrum_url: str) -> None:
    with ElectrumSource(electrum_url, timeout_s=5) as source:
        assert source.tip_height() == 255  # subscribes: the server now pushes notifications
        assert source.address_history(HAL_P2PK) == [TxRef(170, TX_170)]
        assert source.tip_height() == 255
        assert source.server_version == ["FixtureElectrum 1.0", "1.4"]


def test_electrum_reconnects_after_close(electrum_url: str) -> None:
    source = ElectrumSource(electrum_url, timeout_s=5)
    assert source.tip_height() == 255
    source.close()
    assert source.block_header(0)[:4] == b"\x01\x00\x00\x00"
    source.close()


def test_electrum_server_error(sources: dict[str, Any]) -> None:
    with pytest.raises(ChainError, match=r"blockchain.block.header\[999\]: error 2"):
        sources["electrum"].block_header(999)


# -- unreachable and misbehaving servers ----------------------------------------------------


def _make(kind: str, address: str, timeout_s: float = 5) -> Any:
    if kind == "bitcoind":
        return BitcoindSource(f"http://{address}", user="u", password="p", timeout_s=timeout_s)
    if kind == "esplora":
        return EsploraSource(f"http://{address}", timeout_s=timeout_s)
    return ElectrumSource(f"tcp://{address}", timeout_s=timeout_s)


@pytest.mark.parametrize("kind", ["bitcoind", "esplora", "electrum"])
def test_closed_port_gives_chain_error_with_url(kind: str, servers: Any) -> None:
    address = f"127.0.0.1:{servers.closed_port()}"
    source = _make(kind, address)
    with pytest.raises(ChainError, match=f"{address}.*connection refused"):
        source.tip_height()


@pytest.mark.parametrize("kind", ["bitcoind", "esplora"])
def test_non_json_http_answer(kind: str, servers: Any) -> None:
    with servers.garbage_http_server() as url:
        source = _make(kind, url.removeprefix("http://"))
        method = "getblockcount" if kind == "bitcoind" else "/blocks/tip/height"
        with pytest.raises(ChainError, match=f"{url}.*{method}"):
            source.tip_height()
        if kind == "esplora":
            with pytest.raises(ChainError, match="expected a JSON body"):
                source.merkle_proof(TX_170, 170)
        else:
            with pytest.raises(ChainError, match="expected a JSON body"):
                source.tip_height()


def test_non_json_electrum_answer(servers: Any) -> None:
    with servers.garbage_tcp_server() as address:
        source = _make("electrum", address)
        with pytest.raises(ChainError, match=f"tcp://{address} server.version.*JSON line"):
            source.tip_height()
        source.close()


@pytest.mark.parametrize("kind", ["bitcoind", "esplora", "electrum"])
def test_silent_server_times_out(kind: str, servers: Any) -> None:
    with servers.silent_tcp_server() as address:
        source = _make(kind, address, timeout_s=0.3)
        with pytest.raises(ChainError, match=f"{address}.*within 0.3 s"):
            source.tip_height()
        if isinstance(source, ElectrumSource):
            source.close()


def test_malformed_source_settings() -> None:
    with pytest.raises(InputError, match="url"):
        EsploraSource("ftp://example")
    with pytest.raises(InputError, match="timeout_s"):
        EsploraSource("http://127.0.0.1:1", timeout_s=0)
    with pytest.raises(InputError, match="url"):
        ElectrumSource("http://127.0.0.1:1")
    with pytest.raises(InputError, match="user/password"):
        BitcoindSource("http://127.0.0.1:1", user="only")


def test_header_not_matching_block_hash_is_spv_error(sources: dict[str, Any]) -> None:
    # An Esplora server whose /block/:hash/header gives another block's header.
    from hashnation.chain.base import check_header

    other = sources["esplora"].block_header(5)
    with pytest.raises(SpvError, match="expected the block hash"):
        check_header(other, 6, sources["esplora"].block_hash(6), "test")
