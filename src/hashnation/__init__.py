"""HashNation: an open platform for a national Bitcoin programme.

Pillars: mining on surplus power (:mod:`hashnation.mining`), consensus
primitives (:mod:`hashnation.bitcoin`), bundled datasets
(:mod:`hashnation.data`).
"""

from hashnation.errors import (
    ChainError,
    ConsensusError,
    DataError,
    DescriptorError,
    HashNationError,
    InputError,
    LedgerError,
    MiningError,
    OutputError,
    PrivateKeyError,
    ReserveError,
    ScenarioError,
    SpvError,
)

__version__ = "0.1.0"

__all__ = [
    "ChainError",
    "ConsensusError",
    "DataError",
    "DescriptorError",
    "HashNationError",
    "InputError",
    "LedgerError",
    "MiningError",
    "OutputError",
    "PrivateKeyError",
    "ReserveError",
    "ScenarioError",
    "SpvError",
    "__version__",
]
