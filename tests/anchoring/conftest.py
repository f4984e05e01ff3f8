"""Fixtures of the anchoring tests: the OpenTimestamps vectors and a local calendar."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hashnation.chain.regtest import RegtestChain

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "opentimestamps"


def _load(name: str, filename: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(filename))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


CALENDAR = _load("hashnation_anchoring_test_calendar", "calendar_server.py")


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """The vectors' manifest.json."""
    doc: dict[str, Any] = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
    return doc


@pytest.fixture
def regtest_chain() -> RegtestChain:
    return RegtestChain()


@pytest.fixture
def calendar(regtest_chain: RegtestChain) -> Iterator[Any]:
    """A local calendar server committing to ``regtest_chain``."""
    with CALENDAR.LocalCalendar(regtest_chain) as server:
        yield server
