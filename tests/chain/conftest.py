"""Fixtures for the chain tests: the real-data chain fixture, its servers and sources."""

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


def _load_servers() -> ModuleType:
    name = "hashnation_chain_test_servers"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("servers.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


SERVERS = _load_servers()
ADAPTERS = ("bitcoind", "esplora", "electrum")


@pytest.fixture(scope="session")
def servers() -> ModuleType:
    """The test-server module (servers.py)."""
    return SERVERS


@pytest.fixture(scope="session")
def chain() -> Any:
    """Mainnet blocks 0..255 from the vectors, indexed."""
    return SERVERS.ChainFixture()


@pytest.fixture(scope="session")
def rpc_url(chain: Any) -> Iterator[str]:
    with SERVERS.rpc_server(chain) as url:
        yield url


@pytest.fixture(scope="session")
def esplora_url(chain: Any) -> Iterator[str]:
    # Small pages so that paging through a history is exercised.
    with SERVERS.esplora_server(chain, page_size=3) as url:
        yield url


@pytest.fixture(scope="session")
def electrum_url(chain: Any) -> Iterator[str]:
    with SERVERS.electrum_server(chain) as url:
        yield url


@pytest.fixture(scope="session")
def sources(rpc_url: str, esplora_url: str, electrum_url: str) -> Iterator[dict[str, Any]]:
    """One source per adapter, each talking to its server; closed at the end."""
    electrum = ElectrumSource(electrum_url, timeout_s=5)
    yield {
        "bitcoind": BitcoindSource(
            rpc_url, user=SERVERS.RPC_USER, password=SERVERS.RPC_PASSWORD, timeout_s=5
        ),
        "esplora": EsploraSource(esplora_url, timeout_s=5),
        "electrum": electrum,
    }
    electrum.close()


@pytest.fixture(params=ADAPTERS)
def source(request: pytest.FixtureRequest, sources: dict[str, Any]) -> Any:
    """Each adapter in turn."""
    return sources[request.param]


@pytest.fixture
def genesis_store(chain: Any) -> HeaderStore:
    """A header store from the genesis checkpoint (no headers added)."""
    return HeaderStore(Checkpoint(0, chain.headers[0]))


@pytest.fixture
def store(chain: Any) -> HeaderStore:
    """A header store holding the real chain 0..255."""
    headers = HeaderStore(Checkpoint(0, chain.headers[0]))
    headers.extend(chain.headers[1:])
    return headers
