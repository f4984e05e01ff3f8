"""Benchmark: addresses derived per second from a 2-of-3 multisig watch-only descriptor.

Derives receive addresses of ``wsh(sortedmulti(2,XPUB1/0/*,XPUB2/0/*,XPUB3/0/*))`` (three public
keys from the BIP32 test vectors) with :func:`hashnation.reserve.descriptors.derive_addresses`,
twice in the same process: with embit's bundled libsecp256k1 (its default, through ctypes) and
with embit's pure-Python secp256k1 fallback, swapped in for the second run. Both runs must give
the same addresses. Prints both rates and their ratio. Target: >= 5,000 addresses/s with
libsecp256k1.

    python bench/bench_addresses.py [--count N] [--baseline-count N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import embit.bip32
import embit.ec
import embit.util.py_secp256k1
import embit.util.secp256k1

from hashnation.reserve.descriptors import DerivedAddress, derive_addresses, parse_descriptor

ROOT = Path(__file__).resolve().parents[1]
TARGET_ADDR_PER_S = 5_000


def _descriptor_text() -> str:
    vectors = json.loads((ROOT / "tests" / "vectors" / "bip32.json").read_text(encoding="utf-8"))
    chains = {chain["path"]: chain["ext_pub"] for v in vectors["vectors"] for chain in v["chains"]}
    keys = [chains["m/0H/1/2H"], chains["m/0/2147483647H/1"], chains["m/0H/1H"]]
    return "wsh(sortedmulti(2," + ",".join(f"{key}/0/*" for key in keys) + "))"


@contextmanager
def pure_python_secp256k1() -> Iterator[None]:
    """Make embit (and the descriptors module, which calls through ``embit.ec``) use Python EC."""
    saved = embit.ec.secp256k1, embit.bip32.secp256k1
    embit.ec.secp256k1 = embit.bip32.secp256k1 = embit.util.py_secp256k1
    try:
        yield
    finally:
        embit.ec.secp256k1, embit.bip32.secp256k1 = saved


def _backend() -> str:
    return str(embit.ec.secp256k1.ec_pubkey_add.__module__)


def _rate(derive: Callable[[], list[DerivedAddress]], count: int, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        derived = derive()
        samples.append(time.perf_counter() - t0)
        assert len(derived) == count
    return count / statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5_000, help="addresses, libsecp256k1 run")
    parser.add_argument("--baseline-count", type=int, default=100, help="addresses, Python run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    text = _descriptor_text()
    print(f"descriptor: {text[:60]}...{text[-20:]}")

    fast_backend = _backend()
    desc = parse_descriptor(text)
    fast = _rate(lambda: derive_addresses(desc, 0, args.count), args.count, args.repeat)
    fast_first = derive_addresses(desc, 0, args.baseline_count)

    with pure_python_secp256k1():
        slow_backend = _backend()
        slow_desc = parse_descriptor(text)
        slow = _rate(
            lambda: derive_addresses(slow_desc, 0, args.baseline_count),
            args.baseline_count,
            1,
        )
        slow_first = derive_addresses(slow_desc, 0, args.baseline_count)
    assert slow_first == fast_first, "the two secp256k1 backends disagree"
    assert _backend() == fast_backend

    print(f"libsecp256k1 ({fast_backend}): {fast:10,.0f} addr/s  ({args.count} addresses)")
    print(f"pure Python  ({slow_backend}): {slow:10,.0f} addr/s  ({args.baseline_count} addresses)")
    print(f"ratio: {fast / slow:,.1f}x   addresses agree on the first {args.baseline_count}")
    verdict = "met" if fast >= TARGET_ADDR_PER_S else "NOT met"
    print(f"target >= {TARGET_ADDR_PER_S:,} addr/s with libsecp256k1: {verdict}")


if __name__ == "__main__":
    main()
