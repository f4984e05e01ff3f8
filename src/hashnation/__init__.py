"""HashNation: an open platform for a national Bitcoin programme.

Pillars: mining on surplus power (:mod:`hashnation.mining`), consensus
primitives (:mod:`hashnation.bitcoin`), bundled datasets
(:mod:`hashnation.data`).
"""

from hashnation.errors import (
    ConsensusError,
    DataError,
    HashNationError,
    InputError,
    MiningError,
    OutputError,
    ScenarioError,
)

__version__ = "0.1.0"

__all__ = [
    "ConsensusError",
    "DataError",
    "HashNationError",
    "InputError",
    "MiningError",
    "OutputError",
    "ScenarioError",
    "__version__",
]
