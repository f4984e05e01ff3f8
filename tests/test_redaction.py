"""hashnation.redaction and the errors built on it: private keys found, hidden, never echoed.

Keys come from the BIP32, BIP380 and BIP84 test vectors (tests/vectors); the testnet
``tprv`` is BIP32 vector 1's master key under the testnet version bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embit.bip32 import HDKey
from embit.networks import NETWORKS

from hashnation.errors import AccessError, InputError, NotFoundError, TransitionError
from hashnation.redaction import (
    KEY_NOT_SHOWN,
    PRIVATE_KEY_NOT_SHOWN,
    private_key_kind,
    redact,
    shown_value,
)

VECTORS = Path(__file__).resolve().parent / "vectors"
BIP32 = json.loads((VECTORS / "bip32.json").read_text(encoding="utf-8"))
BIP380 = json.loads((VECTORS / "bip380_descriptors.json").read_text(encoding="utf-8"))
XPRV = BIP32["vectors"][0]["chains"][0]["ext_prv"]
XPUB = BIP32["vectors"][0]["chains"][0]["ext_pub"]
TPRV = HDKey.from_string(XPRV).to_string(version=NETWORKS["test"]["xprv"])
TPUB = HDKey.from_string(XPUB).to_string(version=NETWORKS["test"]["xpub"])
WIFS = [
    k["key_expression"]
    for k in BIP380["valid_key_expressions"]
    if k["description"].startswith("WIF")
]
PRIVATE_EXPRESSIONS = [
    k["key_expression"]
    for k in BIP380["valid_key_expressions"]
    if "private" in k["description"].lower()
]
# BIP84 "Test vectors" (bitcoin/bips bip-0084.mediawiki): the mnemonic and its root zprv.
MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
ZPRV = (
    "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7z"
    "hZLfiUm8aunE96BBa4Kei5"
)

SECRETS = [XPRV, TPRV, ZPRV, *WIFS, *PRIVATE_EXPRESSIONS, f"wpkh({XPRV}/84h/0h/0h/0/*)"]
PUBLIC = [
    XPUB,
    TPUB,
    f"wpkh({XPUB}/0/*)",
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
    "the firm did not file its return on time and was warned twice",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_private_keys_are_found_and_hidden(secret: str) -> None:
    assert private_key_kind(secret) is not None
    text = f"field: got {secret!r} in a line"
    hidden = redact(text)
    assert secret not in hidden
    assert KEY_NOT_SHOWN in hidden
    assert shown_value(secret) == PRIVATE_KEY_NOT_SHOWN
    assert shown_value([1, {"x": secret}]) == PRIVATE_KEY_NOT_SHOWN


def test_a_seed_phrase_hides_the_whole_text() -> None:
    assert private_key_kind(MNEMONIC) == "BIP39 seed phrase"
    assert private_key_kind(MNEMONIC.replace(" ", "+")) == "BIP39 seed phrase"
    hidden = redact(f"q={MNEMONIC}")
    assert "abandon" not in hidden
    assert "seed phrase" in hidden


@pytest.mark.parametrize("text", PUBLIC)
def test_public_material_is_left_alone(text: str) -> None:
    assert private_key_kind(text) is None
    assert redact(text) is text
    assert shown_value(text) == repr(text)


def test_input_error_never_repeats_a_key() -> None:
    for secret in SECRETS:
        error = InputError("descriptor", secret, "a public descriptor")
        assert secret not in str(error)
        assert (
            str(error) == "descriptor: got a private key (not shown), expected a public descriptor"
        )
        assert error.value == PRIVATE_KEY_NOT_SHOWN
    kept = InputError("address", XPUB, "an address")
    assert kept.value == XPUB
    assert str(kept) == f"address: got {XPUB!r}, expected an address"


def test_every_project_error_hides_keys_in_its_message() -> None:
    for kind in (TransitionError, AccessError, NotFoundError):
        error = kind(f"no visa application {WIFS[0]!r}")
        assert WIFS[0] not in str(error)
        assert KEY_NOT_SHOWN in str(error)
