"""Fixtures for the proofs tests: the plain reference hashes and the real-chain servers."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hashnation.chain import BitcoindSource, ElectrumSource, EsploraSource
from hashnation.chain.headers import Checkpoint, HeaderStore


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


HERE = Path(__file__).resolve().parent
REFERENCE = _load("hashnation_proofs_test_reference", HERE / "reference.py")
# The same module name as tests/chain/conftest.py, so both share one loaded copy.
SERVERS = _load("hashnation_chain_test_servers", HERE.parent / "chain" / "servers.py")


@pytest.fixture(scope="session")
def reference() -> ModuleType:
    """The plain reference implementation of the version-1 hashes."""
    return REFERENCE


@pytest.fixture(scope="session")
def chain() -> Any:
    """Mainnet blocks 0..255, indexed (tests/chain/servers.py)."""
    return SERVERS.ChainFixture()


@pytest.fixture(scope="session")
def chain_sources(chain: Any) -> Iterator[dict[str, Any]]:
    """One source per adapter, each talking to its real-protocol server."""
    with (
        SERVERS.rpc_server(chain) as rpc_url,
        SERVERS.esplora_server(chain) as esplora_url,
        SERVERS.electrum_server(chain) as electrum_url,
    ):
        electrum = ElectrumSource(electrum_url, timeout_s=5)
        yield {
            "bitcoind": BitcoindSource(
                rpc_url, user=SERVERS.RPC_USER, password=SERVERS.RPC_PASSWORD, timeout_s=5
            ),
            "esplora": EsploraSource(esplora_url, timeout_s=5),
            "electrum": electrum,
        }
        electrum.close()


@pytest.fixture
def store(chain: Any) -> HeaderStore:
    """A header store holding the real chain 0..255, validated header by header."""
    headers = HeaderStore(Checkpoint(0, chain.headers[0]))
    headers.extend(chain.headers[1:])
    return headers
