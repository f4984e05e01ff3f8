"""Watch-only descriptors, checked against the official BIP test vectors.

Sources (see tests/vectors/README.md): BIP380 checksum and key-expression cases, BIP381-387 and
BIP389 descriptors with their scriptPubKeys, BIP32 derivation chains and invalid keys, BIP84 and
BIP86 account derivations, BIP173/BIP350 address vectors. Expected values come from those files.
embit (the library under the module) is used here only to turn the vectors' private keys into
their public equivalents, and in one cross-check of the module's faster derivation against
embit's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from embit import base58, bech32, bip32, ec, hashes
from embit.descriptor import Descriptor
from embit.networks import NETWORKS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashnation.errors import DescriptorError, InputError, PrivateKeyError
from hashnation.reserve.descriptors import (
    KINDS,
    DerivedAddress,
    ReserveDescriptors,
    WatchDescriptor,
    derive_addresses,
    descriptor_checksum,
    parse_descriptor,
    scan_with_gap_limit,
    script_pubkey_from_address,
    verify_checksum,
    xpub_from_slip132,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


BIP380 = _load("bip380_descriptors.json")
BIP32 = _load("bip32.json")
BIP84 = _load("bip84_derivation.json")
BIP86 = _load("bip86_derivation.json")
BIP173 = _load("bip173_bech32.json")
BIP350 = _load("bip350_bech32m.json")
BIP389 = _load("bip389_descriptors.json")
SCRIPT_BIPS = ("bip381", "bip382", "bip383", "bip384", "bip385", "bip386", "bip387")
SCRIPT_VECTORS = {bip: _load(f"{bip}_descriptors.json") for bip in SCRIPT_BIPS}

# Public keys from the vectors, used to build descriptors of our own.
XPUB_A = BIP32["vectors"][0]["chains"][0]["ext_pub"]  # vector 1, m
XPUB_B = BIP32["vectors"][1]["chains"][0]["ext_pub"]  # vector 2, m
XPUB_C = BIP32["vectors"][2]["chains"][0]["ext_pub"]  # vector 3, m
PUB_COMPRESSED = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"  # BIP381-386
# Raw private key of BIP32 vector 1, m (bytes 46-78 of its xprv): a hex private key.
HEX_SECRET = bytes(base58.decode_check(BIP32["vectors"][0]["chains"][0]["ext_prv"]))[46:].hex()

# Private key material in vector texts: extended private keys and WIF keys.
_SECRET = re.compile(
    r"(?<![0-9A-Za-z])(?:[xtyzuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{100,}"
    r"|[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51})(?![0-9A-Za-z])"
)


def _secrets_in(text: str) -> list[str]:
    return _SECRET.findall(text)


def _rendered(exc: BaseException) -> str:
    """Everything an exception can show: message, repr, args, attributes, chained errors."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def _assert_not_shown(exc: BaseException, secrets: list[str]) -> None:
    rendered = _rendered(exc)
    for secret in secrets:
        assert secret not in rendered
        assert secret[:12] not in rendered  # not even a recognisable part


def _assert_refused(text: str, secrets: list[str] | None = None) -> PrivateKeyError:
    with pytest.raises(PrivateKeyError) as info:
        parse_descriptor(text)
    _assert_not_shown(info.value, secrets if secrets is not None else _secrets_in(text))
    assert info.value.field == "descriptor"
    assert "<redacted" in str(info.value)
    return info.value


def _scripts(desc: WatchDescriptor, count: int, *, branch: int | None = None) -> list[str]:
    derived = derive_addresses(desc, 0, count if desc.is_ranged else 1, branch=branch)
    return [item.script_pubkey_hex for item in derived]


def _p2wsh(script_hex: str) -> str:
    return "0020" + hashlib.sha256(bytes.fromhex(script_hex)).hexdigest()


def _p2sh(script_hex: str) -> str:
    return "a914" + hashes.hash160(bytes.fromhex(script_hex)).hex() + "87"


def _public_equivalent(text: str) -> str:
    """The vector with each private key replaced by its public key (read by embit)."""

    def public(match: re.Match[str]) -> str:
        secret = match.group()
        if secret[1:4] == "prv":
            return str(bip32.HDKey.from_base58(secret).to_public().to_base58())
        return str(ec.PrivateKey.from_wif(secret).get_public_key().sec().hex())

    return _SECRET.sub(public, text)


def _key_of(ext_pub: str) -> bytes:
    """Serialized public key (33 bytes) of a base58 extended public key."""
    return bytes(base58.decode_check(ext_pub))[45:78]


def _with_version(ext_key: str, version: bytes) -> str:
    return str(base58.encode_check(version + bytes(base58.decode_check(ext_key))[4:]))


def _script_cases() -> list[tuple[str, str, str, list[str]]]:
    cases = []
    for bip, data in SCRIPT_VECTORS.items():
        for number, item in enumerate(data["valid"]):
            if "children" in item:  # ranged combo(): scripts grouped per child
                scripts = [s for child in item["children"] for s in child["scripts"]]
            else:
                scripts = item["scripts"]
            cases.append((f"{bip}-valid-{number}", bip, item["descriptor"], scripts))
    return cases


def _invalid_cases() -> list[tuple[str, str]]:
    return [
        (f"{bip}-invalid-{number}", item["descriptor"])
        for bip, data in (*SCRIPT_VECTORS.items(), ("bip389", BIP389))
        for number, item in enumerate(data["invalid"])
    ]


def _hardened_after_key(text: str) -> bool:
    """True if some key expression has a hardened step after its key (not in its origin)."""
    for token in re.split(r"[(),{}]", text):
        steps = re.sub(r"^\[[^\]]*\]", "", token).split("/")[1:]
        if any(step.endswith(("h", "'", "H")) for step in steps):
            return True
    return False


_UNCOMPRESSED = re.compile(r"(?<![0-9a-fA-F])04[0-9a-fA-F]{128}(?![0-9a-fA-F])")

SCRIPT_CASES = _script_cases()
INVALID_CASES = _invalid_cases()
_TOP = ("pkh(", "wpkh(", "sh(", "wsh(", "tr(")


# --------------------------------------------------------------------------- BIP380


@pytest.mark.parametrize("case", BIP380["checksum_tests"], ids=lambda c: c["case"])
def test_bip380_checksum_cases(case: dict[str, str]) -> None:
    text = case["descriptor"]
    if case["expected"] in ("valid", "valid_if_checksum_not_required"):
        assert verify_checksum(text) == "raw(deadbeef)"
        with pytest.raises(DescriptorError, match="supported descriptor"):
            parse_descriptor(text)  # checksum fine, raw() not supported
    else:
        with pytest.raises(DescriptorError) as info:
            verify_checksum(text)
        assert info.value.field == "descriptor"
        with pytest.raises(DescriptorError):
            parse_descriptor(text)


def test_bip380_checksum_value_and_error_message() -> None:
    assert descriptor_checksum("raw(deadbeef)") == "89f8spxm"
    expected = descriptor_checksum("raw(deedbeef)")
    with pytest.raises(DescriptorError) as info:
        verify_checksum("raw(deedbeef)#89f8spxm")
    message = str(info.value)
    assert message.startswith("descriptor: ")
    assert "89f8spxm" in message and expected in message


def test_checksum_is_verified_and_added() -> None:
    body = f"wpkh({XPUB_A}/0/*)"
    desc = parse_descriptor(body)
    checksum = desc.normalized.rsplit("#", 1)[1]
    assert desc.normalized == f"{body}#{checksum}"
    assert parse_descriptor(desc.normalized) == desc
    wrong = "qqqqqqqq" if checksum != "qqqqqqqq" else "pppppppp"
    with pytest.raises(DescriptorError) as info:
        parse_descriptor(f"{body}#{wrong}")
    assert info.value.field == "descriptor"
    assert wrong in str(info.value) and checksum in str(info.value)


def _key_expression_cases() -> list[tuple[str, str, bool]]:
    return [
        (c["description"], c["key_expression"], True) for c in BIP380["valid_key_expressions"]
    ] + [(c["description"], c["key_expression"], False) for c in BIP380["invalid_key_expressions"]]


@pytest.mark.parametrize(("description", "expression", "valid"), _key_expression_cases())
def test_bip380_key_expressions(description: str, expression: str, valid: bool) -> None:
    text = f"pkh({expression})"  # pkh() takes any key, compressed or not
    secrets = _secrets_in(expression)
    if secrets:
        _assert_refused(text, secrets)
    elif not valid:
        with pytest.raises(DescriptorError):
            parse_descriptor(text)
    elif _hardened_after_key(text):
        # Valid BIP380 syntax, but hardened steps after an xpub need the private key:
        # a watch-only wallet refuses them and asks for the xpub at the hardened level.
        with pytest.raises(DescriptorError, match="hardened"):
            parse_descriptor(text)
    else:
        desc = parse_descriptor(text)
        assert desc.kind == "pkh"
        assert desc.is_ranged == expression.endswith("/*")


# --------------------------------------------------------------------------- BIP381-387


@pytest.mark.parametrize(("case_id", "bip", "text", "scripts"), SCRIPT_CASES, ids=lambda x: x)
def test_valid_vectors(case_id: str, bip: str, text: str, scripts: list[str]) -> None:
    secrets = _secrets_in(text)
    if secrets:
        _assert_refused(text, secrets)
        public = _public_equivalent(text)
        if not scripts or _hardened_after_key(public):
            return  # no public form a watch-only wallet can derive
        assert not _secrets_in(public)
        text = public
    if text.startswith(_TOP):
        desc = parse_descriptor(text)
        assert desc.kind in KINDS
        assert _scripts(desc, len(scripts)) == scripts
    elif text.startswith(("pk(", "multi(", "sortedmulti(")) and scripts:
        with pytest.raises(DescriptorError, match="supported descriptor"):
            parse_descriptor(text)
        # Bare scripts are not watched, but their P2WSH (or P2SH) wrapping is, and its
        # script is fixed by the bare one: check that instead.
        if _UNCOMPRESSED.search(text):
            desc, expected = parse_descriptor(f"sh({text})"), [_p2sh(s) for s in scripts]
        else:
            desc, expected = parse_descriptor(f"wsh({text})"), [_p2wsh(s) for s in scripts]
        assert _scripts(desc, len(scripts)) == expected
    else:  # combo(), raw(), addr()
        with pytest.raises(DescriptorError, match="supported descriptor"):
            parse_descriptor(text)
        if text.startswith("combo("):
            _check_combo_forms(text[len("combo(") : -1], scripts)


def _check_combo_forms(key: str, scripts: list[str]) -> None:
    """combo(KEY) is P2PK, P2PKH and, for a compressed key, P2WPKH and P2SH-P2WPKH (BIP384).

    Each of those is a supported descriptor of its own except bare P2PK, checked through its
    P2SH wrapping.
    """
    compressed = not _UNCOMPRESSED.search(key)
    forms = [f"sh(pk({key}))", f"pkh({key})"]
    forms += [f"wpkh({key})", f"sh(wpkh({key}))"] if compressed else []
    per_child = [scripts[i : i + len(forms)] for i in range(0, len(scripts), len(forms))]
    for position, form in enumerate(forms):
        desc = parse_descriptor(form)
        expected = [child[position] for child in per_child]
        if position == 0:
            expected = [_p2sh(script) for script in expected]
        assert _scripts(desc, len(per_child)) == expected


@pytest.mark.parametrize(("case_id", "text"), INVALID_CASES, ids=lambda x: x)
def test_invalid_vectors(case_id: str, text: str) -> None:
    with pytest.raises(DescriptorError) as info:
        parse_descriptor(text)
    _assert_not_shown(info.value, _secrets_in(text))


def test_vector_pairs_private_and_public_agree() -> None:
    """Where a vector gives a private key and its public key, both forms name one script."""
    checked = 0
    for data in SCRIPT_VECTORS.values():
        by_scripts: dict[tuple[str, ...], list[str]] = {}
        for item in data["valid"]:
            if item.get("scripts"):
                by_scripts.setdefault(tuple(item["scripts"]), []).append(item["descriptor"])
        for scripts, texts in by_scripts.items():
            public = [t for t in texts if not _secrets_in(t) and t.startswith(_TOP)]
            private = [t for t in texts if _secrets_in(t)]
            for text in private:
                _assert_refused(text)
            for text in public if private else []:
                assert _scripts(parse_descriptor(text), len(scripts)) == list(scripts)
                checked += 1
    assert checked >= 10


def test_kinds() -> None:
    cases = {
        f"pkh({XPUB_A}/0/*)": "pkh",
        f"wpkh({XPUB_A}/0/*)": "wpkh",
        f"sh(wpkh({XPUB_A}/0/*))": "sh-wpkh",
        f"wsh(multi(2,{XPUB_A}/*,{XPUB_B}/*))": "wsh-multi",
        f"wsh(sortedmulti(2,{XPUB_A}/*,{XPUB_B}/*))": "wsh-sortedmulti",
        f"sh(wsh(sortedmulti(2,{XPUB_A}/*,{XPUB_B}/*)))": "sh-wsh-sortedmulti",
        f"sh(sortedmulti(2,{XPUB_A}/*,{XPUB_B}/*))": "sh-sortedmulti",
        f"tr({XPUB_A}/0/*)": "tr",
        f"tr({XPUB_A}/0/*,pk({XPUB_B}/0/*))": "tr-tree",
    }
    for text, kind in cases.items():
        desc = parse_descriptor(text)
        assert desc.kind == kind
        assert desc.is_ranged and desc.network == "main" and desc.branch_count == 1


def test_unsupported_and_malformed_forms() -> None:
    for text in (
        f"wsh(and_v(v:pk({PUB_COMPRESSED}),older(10)))",  # miniscript beyond multi/pk/pkh
        f"wsh(pkh({'ab' * 20}))",  # key hash instead of a key
        f"wsh(multi(2,{XPUB_A}/*,{XPUB_A}/*))",  # the same key twice
        f"wsh(multi(2,{XPUB_A}/*h,{XPUB_B}/*))",  # hardened children of an xpub
        f"wpkh({XPUB_A}/0/*/1)",  # wildcard not last
        f"wpkh({XPUB_A}/<0;0>/*)",  # duplicate multipath index
        f"wpkh({XPUB_A}/<0;1>/<2;3>/*)",  # two multipath steps
        f"wpkh({_with_version(XPUB_A, NETWORKS['main']['zpub'])}/0/*)",  # SLIP-132 key
        "wpkh( )",
        "",
        "wpkh(",
        ")",
    ):
        with pytest.raises(DescriptorError):
            parse_descriptor(text)
    with pytest.raises(DescriptorError):
        parse_descriptor(123)  # type: ignore[arg-type]
    padded = f"  wpkh({XPUB_A}/0/*)\n"
    assert parse_descriptor(padded).text == padded  # outer whitespace is ignored, and kept
    with pytest.raises(DescriptorError, match="at most"):
        parse_descriptor("wpkh(" + "1" * 30_000 + ")")


def test_normalized_form_is_canonical() -> None:
    quoted = parse_descriptor(f"wpkh([deadbeef/84'/0'/0']{XPUB_A}/0/*)")
    with_h = parse_descriptor(f"wpkh([deadbeef/84h/0h/0h]{XPUB_A}/0/*)")
    assert quoted == with_h
    assert "'" not in quoted.normalized
    assert parse_descriptor(quoted.normalized).normalized == quoted.normalized
    assert str(quoted) == quoted.normalized


def test_fast_derivation_matches_embit() -> None:
    """The per-branch prepared keys give what embit's own derivation gives."""
    texts = [
        f"wsh(sortedmulti(2,{XPUB_A}/0/*,[01020304/48h/0h/0h/2h]{XPUB_B}/0/*,{XPUB_C}/0/*))",
        f"sh(wpkh({XPUB_A}/1/2/*))",
        f"pkh({XPUB_B}/*)",
        f"tr({XPUB_A}/0/*,{{pk({XPUB_B}/3/*),pk({XPUB_C}/*)}})",
        f"sh(wsh(multi(1,{XPUB_A}/7,{XPUB_B}/*)))",
    ]
    for text in texts:
        desc = parse_descriptor(text)
        reference = Descriptor.from_string(text)
        for item in derive_addresses(desc, 0, 3) + derive_addresses(desc, 1000, 2):
            spk = reference.derive(item.index).script_pubkey()
            assert item.script_pubkey_hex == spk.data.hex()
            assert item.address == spk.address(NETWORKS["main"])
            assert script_pubkey_from_address(item.address) == item.script_pubkey_hex


# --------------------------------------------------------------------------- BIP389


def _multipath_cases() -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(BIP389["valid"]))


@pytest.mark.parametrize(("number", "case"), _multipath_cases(), ids=lambda x: str(x)[:20])
def test_bip389_multipath_expands(number: int, case: dict[str, Any]) -> None:
    text, expanded = case["descriptor"], case["expands_to"]
    if _secrets_in(text):
        _assert_refused(text)
        for item in expanded:
            _assert_refused(item)
        return
    wrap = (lambda t: t) if text.startswith(_TOP) else (lambda t: f"wsh({t})")
    desc = parse_descriptor(wrap(text))
    assert desc.branch_count == len(expanded) and desc.is_multipath
    for branch, single in enumerate(expanded):
        single_desc = parse_descriptor(wrap(single))
        assert single_desc.branch_count == 1
        assert _scripts(desc, 3, branch=branch) == _scripts(single_desc, 3)
    if len(expanded) == 2:
        assert derive_addresses(desc, 0, 2, change=True) == derive_addresses(desc, 0, 2, branch=1)


def test_change_needs_multipath() -> None:
    desc = parse_descriptor(f"wpkh({XPUB_A}/0/*)")
    with pytest.raises(DescriptorError) as info:
        derive_addresses(desc, 0, 1, change=True)
    assert info.value.field == "change"
    with pytest.raises(InputError):
        derive_addresses(desc, 0, 1, branch=1)


# --------------------------------------------------------------------------- BIP32


def _bip32_public_steps() -> list[tuple[str, str, int, str]]:
    steps = []
    for vector in BIP32["vectors"]:
        chains = vector["chains"]
        for parent, child in itertools.pairwise(chains):
            last = child["steps"][-1]
            if not last["hardened"]:
                steps.append((child["path"], parent["ext_pub"], last["index"], child["ext_pub"]))
    return steps


BIP32_STEPS = _bip32_public_steps()


def test_bip32_has_public_steps() -> None:
    # vector 1: m/0H/1, m/0H/1/2H/2, m/0H/1/2H/2/1000000000; vector 2: m/0, .../2147483647H/1, .../2
    assert len(BIP32_STEPS) == 6


@pytest.mark.parametrize(
    ("path", "parent", "index", "child"), BIP32_STEPS, ids=lambda x: str(x)[:24]
)
def test_bip32_public_derivation(path: str, parent: str, index: int, child: str) -> None:
    pkh = "76a914" + hashes.hash160(_key_of(child)).hex() + "88ac"
    fixed = parse_descriptor(f"pkh({parent}/{index})")
    assert _scripts(fixed, 1) == [pkh]
    ranged = parse_descriptor(f"pkh({parent}/*)")
    assert derive_addresses(ranged, index, 1)[0].script_pubkey_hex == pkh
    wpkh = parse_descriptor(f"wpkh({parent}/*)")
    assert derive_addresses(wpkh, index, 1)[0].script_pubkey_hex == "0014" + pkh[6:46]


def test_bip32_private_keys_refused() -> None:
    for vector in BIP32["vectors"]:
        for chain in vector["chains"]:
            secret = chain["ext_prv"]
            _assert_refused(f"wpkh({secret})", [secret])
            _assert_refused(secret, [secret])
            with pytest.raises(PrivateKeyError) as info:
                xpub_from_slip132(secret)
            _assert_not_shown(info.value, [secret])


@pytest.mark.parametrize("case", BIP32["invalid_extended_keys"], ids=lambda c: c["reason"])
def test_bip32_invalid_keys(case: dict[str, str]) -> None:
    key = case["key"]
    with pytest.raises(DescriptorError) as info:
        parse_descriptor(f"wpkh({key}/*)")
    if key[1:4] == "prv" or "prvkey" in case["reason"] or "private key" in case["reason"]:
        _assert_not_shown(info.value, [key])


def test_xpub_with_private_key_data_is_refused() -> None:
    """BIP32 vector 5 'pubkey version / prvkey mismatch': an xpub prefix over a private key."""
    case = next(
        c for c in BIP32["invalid_extended_keys"] if c["reason"].startswith("pubkey version")
    )
    assert case["key"].startswith("xpub")
    _assert_refused(f"wpkh({case['key']})", [case["key"]])


# --------------------------------------------------------------------------- BIP84 / BIP86


def test_bip84_addresses_from_account_zpub() -> None:
    account = next(d for d in BIP84["derivations"] if d["path"] == "m/84'/0'/0'")
    xpub = xpub_from_slip132(account["xpub"])
    assert xpub.startswith("xpub") and xpub_from_slip132(xpub) == xpub
    receive = parse_descriptor(f"wpkh([73c5da0a/84h/0h/0h]{xpub}/0/*)")
    change = parse_descriptor(f"wpkh({xpub}/1/*)")
    both = parse_descriptor(f"wpkh({xpub}/<0;1>/*)")
    for item in BIP84["derivations"]:
        if "address" not in item:
            continue
        branch, index = (int(step) for step in item["path"].split("/")[-2:])
        single = receive if branch == 0 else change
        derived = derive_addresses(single, index, 1)[0]
        assert derived.address == item["address"]
        assert (
            derived.script_pubkey_hex
            == "0014" + hashes.hash160(bytes.fromhex(item["pubkey"])).hex()
        )
        assert derive_addresses(both, index, 1, change=branch == 1)[0].address == item["address"]
        assert script_pubkey_from_address(item["address"]) == derived.script_pubkey_hex


def test_bip84_secrets_refused() -> None:
    secrets = [BIP84["mnemonic"], BIP84["rootpriv"]] + [
        d.get("xpriv") or d["privkey"] for d in BIP84["derivations"]
    ]
    for secret in secrets:
        with pytest.raises(PrivateKeyError) as info:
            parse_descriptor(secret)
        _assert_not_shown(info.value, [secret])
        if " " not in secret:
            with pytest.raises(PrivateKeyError):
                parse_descriptor(f"wpkh({secret})")
    root = xpub_from_slip132(BIP84["rootpub"])
    with pytest.raises(DescriptorError, match="hardened"):
        parse_descriptor(f"wpkh({root}/84h/0h/0h/0/*)")


def test_bip86_addresses_from_account_xpub() -> None:
    account = next(d for d in BIP86["derivations"] if d["path"] == "m/86'/0'/0'")
    receive = parse_descriptor(f"tr({account['xpub']}/0/*)")
    both = parse_descriptor(f"tr([73c5da0a/86h/0h/0h]{account['xpub']}/<0;1>/*)")
    assert receive.kind == "tr"
    for item in BIP86["derivations"]:
        if "address" not in item:
            continue
        branch, index = (int(step) for step in item["path"].split("/")[-2:])
        derived = derive_addresses(both, index, 1, change=branch == 1)[0]
        assert derived.address == item["address"]
        assert derived.script_pubkey_hex == item["scriptPubKey"] == "5120" + item["output_key"]
        if branch == 0:
            assert derive_addresses(receive, index, 1)[0] == derived
        internal = parse_descriptor(f"tr({item['internal_key']})")
        assert _scripts(internal, 1) == [item["scriptPubKey"]]
        leaf_xpub = parse_descriptor(f"tr({item['xpub']})")
        assert derive_addresses(leaf_xpub, 0, 1)[0].address == item["address"]
        _assert_refused(f"tr({item['xprv']})", [item["xprv"]])
    _assert_refused(BIP86["mnemonic"], [*BIP86["mnemonic"].split()[:1], BIP86["mnemonic"]])


# --------------------------------------------------------------------------- BIP173 / BIP350


def _address_cases() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for item in BIP350["valid_segwit_addresses"]:
        cases.append((item["address"], item["scriptPubKey"]))
    for item in BIP173["valid_segwit_addresses"]:
        cases.append(
            (item["address"], item["scriptPubKey"] if item["valid_under_bip350"] else None)
        )
    for data in (BIP173, BIP350):
        cases += [(item["address"], None) for item in data["invalid_segwit_addresses"]]
    return cases


@pytest.mark.parametrize(("address", "script"), _address_cases())
def test_segwit_address_vectors(address: str, script: str | None) -> None:
    if script is None:
        with pytest.raises(InputError):
            script_pubkey_from_address(address)
    else:
        assert script_pubkey_from_address(address) == script
        network = "main" if address.lower().startswith("bc1") else "test"
        assert script_pubkey_from_address(address, network=network) == script
        other = "test" if network == "main" else "main"
        with pytest.raises(InputError):
            script_pubkey_from_address(address, network=other)


def test_bech32_string_vectors() -> None:
    """embit's Bech32/Bech32m decoder, which the address checks build on."""
    for data, valid_key, invalid_key, encoding in (
        (BIP173, "valid_bech32", "invalid_bech32", bech32.Encoding.BECH32),
        (BIP350, "valid_bech32m", "invalid_bech32m", bech32.Encoding.BECH32M),
    ):
        for text in data[valid_key]:
            assert bech32.bech32_decode(text)[0] == encoding
        for item in data[invalid_key]:
            assert bech32.bech32_decode(item["string"])[0] is None


def test_base58_addresses() -> None:
    assert (
        script_pubkey_from_address("3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j")  # BIP385 addr() vector
        == SCRIPT_VECTORS["bip385"]["valid"][3]["scripts"][0]
    )
    desc = parse_descriptor(f"pkh({XPUB_A}/*)")
    for item in derive_addresses(desc, 0, 3):
        assert item.address.startswith("1")
        assert script_pubkey_from_address(item.address, network="main") == item.script_pubkey_hex
    for bad in ("", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "bc1", "not an address", 7):
        with pytest.raises(InputError):
            script_pubkey_from_address(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- networks


def test_testnet_keys_give_testnet_addresses() -> None:
    tpub_a = _with_version(XPUB_A, NETWORKS["test"]["xpub"])
    tpub_b = _with_version(XPUB_B, NETWORKS["test"]["xpub"])
    main = parse_descriptor(f"wsh(sortedmulti(1,{XPUB_A}/*,{XPUB_B}/*))")
    test = parse_descriptor(f"wsh(sortedmulti(1,{tpub_a}/*,{tpub_b}/*))")
    assert (main.network, test.network) == ("main", "test")
    main_first, test_first = derive_addresses(main, 0, 1)[0], derive_addresses(test, 0, 1)[0]
    assert test_first.script_pubkey_hex == main_first.script_pubkey_hex
    assert main_first.address.startswith("bc1q") and test_first.address.startswith("tb1q")
    assert (
        script_pubkey_from_address(test_first.address, network="test")
        == test_first.script_pubkey_hex
    )
    assert derive_addresses(parse_descriptor(f"pkh({tpub_a}/*)"), 0, 1)[0].address[0] in "mn"
    assert derive_addresses(parse_descriptor(f"tr({tpub_a}/*)"), 0, 1)[0].address.startswith("tb1p")
    with pytest.raises(DescriptorError, match="one network"):
        parse_descriptor(f"wsh(sortedmulti(1,{XPUB_A}/*,{tpub_b}/*))")
    with pytest.raises(DescriptorError):
        parse_descriptor(f"wpkh({tpub_a}/*)", network="main")
    hex_only = parse_descriptor(f"wpkh({PUB_COMPRESSED})", network="test")
    assert hex_only.network == "test"
    assert derive_addresses(hex_only, 0, 1)[0].address.startswith("tb1q")
    assert parse_descriptor(f"wpkh({PUB_COMPRESSED})").network == "main"
    with pytest.raises(DescriptorError):
        parse_descriptor(f"wpkh({PUB_COMPRESSED})", network="regtest")  # type: ignore[arg-type]


def test_slip132_conversion() -> None:
    for net, names in (("main", ("ypub", "zpub", "Ypub", "Zpub")), ("test", ("ypub", "zpub"))):
        plain = _with_version(XPUB_A, NETWORKS[net]["xpub"])
        for name in names:
            assert xpub_from_slip132(_with_version(XPUB_A, NETWORKS[net][name])) == plain
    for bad in ("", "xpub", XPUB_A[:-1] + ("a" if XPUB_A[-1] != "a" else "b"), 5):
        with pytest.raises(DescriptorError):
            xpub_from_slip132(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- addresses and scans


def test_derive_addresses_ranges() -> None:
    desc = parse_descriptor(f"wpkh({XPUB_A}/0/*)")
    first = derive_addresses(desc, 0, 5)
    assert [item.index for item in first] == [0, 1, 2, 3, 4]
    assert all(isinstance(item, DerivedAddress) and item.branch == 0 for item in first)
    assert derive_addresses(desc, 3, 2) == first[3:]
    assert derive_addresses(desc, 7, 0) == []
    last = derive_addresses(desc, 2**31 - 1, 1)
    assert last[0].index == 2**31 - 1
    for start, count in ((-1, 1), (0, -1), (2**31, 1), (2**31 - 1, 2), (True, 1), (0, 1.0)):
        with pytest.raises(InputError):
            derive_addresses(desc, start, count)  # type: ignore[arg-type]


def test_non_ranged_descriptor_has_one_address() -> None:
    desc = parse_descriptor(f"wpkh({XPUB_A}/0/5)")
    assert not desc.is_ranged
    (only,) = derive_addresses(desc, 0, 10)
    assert (only.index, only.branch) == (0, 0)
    fifth = derive_addresses(parse_descriptor(f"wpkh({XPUB_A}/0/*)"), 5, 1)[0]
    assert (only.address, only.script_pubkey_hex) == (fifth.address, fifth.script_pubkey_hex)
    assert derive_addresses(desc, 1, 10) == []
    assert scan_with_gap_limit(desc, lambda _: False) == [only]


def _usage(desc: WatchDescriptor, used: dict[int, set[int]]) -> tuple[set[str], list[str]]:
    addresses = {
        item.address
        for branch, indices in used.items()
        for item in derive_addresses(desc, 0, 50, branch=branch)
        if item.index in indices
    }
    calls: list[str] = []
    return addresses, calls


@pytest.mark.parametrize(
    ("gap", "expected"),
    [(3, [0, 1, 2, 3, 4]), (4, list(range(10))), (1, [0, 1, 2]), (20, list(range(26)))],
)
def test_gap_limit_scan(gap: int, expected: list[int]) -> None:
    """Used indices 0, 1 and 5: a gap of 3 stops at 4 and never sees 5; a gap of 4 reaches it."""
    desc = parse_descriptor(f"wpkh({XPUB_A}/0/*)")
    used, calls = _usage(desc, {0: {0, 1, 5}})

    def is_used(address: str) -> bool:
        calls.append(address)
        return address in used

    found = scan_with_gap_limit(desc, is_used, gap_limit=gap)
    assert [item.index for item in found] == expected
    assert {item.branch for item in found} == {0}
    assert calls == [item.address for item in found]  # each address asked once, in order


def test_gap_limit_scan_receive_and_change() -> None:
    desc = parse_descriptor(f"wpkh({XPUB_A}/<0;1>/*)")
    used, _ = _usage(desc, {0: {0, 1, 5}, 1: {2}})
    found = scan_with_gap_limit(desc, used.__contains__, gap_limit=3)
    assert [(item.branch, item.index) for item in found] == [(0, i) for i in range(5)] + [
        (1, i) for i in range(6)
    ]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError):
            scan_with_gap_limit(desc, used.__contains__, gap_limit=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- secrets


def _mnemonics() -> list[str]:
    from embit.wordlists.bip39 import WORDLIST

    return [BIP84["mnemonic"]] + [
        " ".join(WORDLIST[(7 * i + 13 * n) % 2048] for i in range(n)) for n in (15, 18, 21, 24)
    ]


@pytest.mark.parametrize("mnemonic", _mnemonics(), ids=lambda m: f"{len(m.split())}-words")
def test_seed_phrases_refused(mnemonic: str) -> None:
    words = mnemonic.split()
    variants = [
        mnemonic,
        f"  {mnemonic}\n",
        mnemonic.upper(),
        ",".join(words),
        " ".join(f"{n}. {w}" for n, w in enumerate(words, 1)),
        f"wpkh({mnemonic})",
        f"wsh(multi(2,{','.join(words)}))",
    ]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    for text in variants:
        exc = _assert_refused(text, [mnemonic, *pairs])
        assert "seed phrase" in str(exc)


def test_partial_seed_is_not_echoed() -> None:
    words = [*BIP84["mnemonic"].split()[:11], "abandn"]
    with pytest.raises(DescriptorError) as info:
        parse_descriptor(" ".join(words))
    assert "abandon" not in _rendered(info.value)


def test_hex_and_wif_private_keys_refused() -> None:
    wif = BIP84["derivations"][1]["privkey"]
    for text, secret in (
        (HEX_SECRET, HEX_SECRET),
        (f"wpkh({HEX_SECRET})", HEX_SECRET),
        (f"wsh(multi(1,{PUB_COMPRESSED},{HEX_SECRET}))", HEX_SECRET),
        (f"0x{HEX_SECRET}", HEX_SECRET),
        (wif, wif),
        (f"sh(wpkh({wif}))", wif),
        (f"wpkh({wif[:-1]}x)", wif[:-1]),  # damaged WIF: still refused, still not shown
    ):
        _assert_refused(text, [secret])
    # In tr() a 64-digit hex string is an x-only public key by the grammar.
    assert parse_descriptor(f"tr({PUB_COMPRESSED[2:]})").kind == "tr"


def test_secrets_never_in_checksum_errors() -> None:
    xprv = BIP32["vectors"][0]["chains"][1]["ext_prv"]
    _assert_refused(f"wpkh({xprv})#qqqqqqqq", [xprv])
    with pytest.raises(PrivateKeyError) as info:
        verify_checksum(f"wpkh({xprv})#qqqqqqqq")
    _assert_not_shown(info.value, [xprv])


def test_damaged_keys_are_not_echoed() -> None:
    xprv = BIP32["vectors"][0]["chains"][1]["ext_prv"]
    damaged = "q" + xprv[4:]  # no 'prv' left, checksum broken: unreadable, so not shown
    with pytest.raises(DescriptorError) as info:
        parse_descriptor(f"wpkh({damaged})")
    assert damaged not in _rendered(info.value) and damaged[:30] not in _rendered(info.value)


# --------------------------------------------------------------------------- reserve set


def test_reserve_descriptors_roundtrip() -> None:
    reserve = ReserveDescriptors()
    cold = reserve.add(
        "cold-2of3", f"wsh(sortedmulti(2,{XPUB_A}/<0;1>/*,{XPUB_B}/<0;1>/*,{XPUB_C}/<0;1>/*))"
    )
    hot = reserve.add("hot", parse_descriptor(f"tr({XPUB_A}/86/*)"))
    assert len(reserve) == 2 and list(reserve) == ["cold-2of3", "hot"]
    assert "hot" in reserve and reserve["cold-2of3"] == cold and reserve.network == "main"
    data = json.loads(json.dumps(reserve.to_dict()))
    assert data == {
        "version": 1,
        "descriptors": {"cold-2of3": cold.normalized, "hot": hot.normalized},
    }
    again = ReserveDescriptors.from_dict(data)
    assert again.items() == reserve.items()
    assert reserve.remove("hot") == hot
    assert "hot" not in reserve and len(reserve) == 1
    with pytest.raises(InputError):
        reserve.remove("hot")
    with pytest.raises(InputError):
        reserve["hot"]


def test_reserve_refuses_duplicates_and_mixing() -> None:
    reserve = ReserveDescriptors()
    reserve.add("a", f"wpkh([deadbeef/84'/0'/0']{XPUB_A}/0/*)")
    with pytest.raises(InputError):
        reserve.add("a", f"wpkh({XPUB_B}/0/*)")
    with pytest.raises(DescriptorError, match="'a'"):
        reserve.add("b", f"wpkh([deadbeef/84h/0h/0h]{XPUB_A}/0/*)")  # same descriptor
    tpub = _with_version(XPUB_B, NETWORKS["test"]["xpub"])
    with pytest.raises(DescriptorError, match="network"):
        reserve.add("c", f"wpkh({tpub}/0/*)")
    for label in ("", " x", "x" * 101, 3):
        with pytest.raises(InputError):
            reserve.add(label, f"wpkh({XPUB_B}/0/*)")  # type: ignore[arg-type]
    with pytest.raises(DescriptorError):
        reserve.add("d", 42)  # type: ignore[arg-type]
    xprv = BIP32["vectors"][0]["chains"][0]["ext_prv"]
    with pytest.raises(PrivateKeyError) as info:
        reserve.add(xprv, f"wpkh({XPUB_B}/0/*)")  # a secret pasted as a label
    _assert_not_shown(info.value, [xprv])
    assert list(reserve) == ["a"]


def test_reserve_from_dict_refuses_bad_input_and_secrets() -> None:
    xprv = BIP32["vectors"][0]["chains"][0]["ext_prv"]
    with pytest.raises(PrivateKeyError) as info:
        ReserveDescriptors.from_dict({"version": 1, "descriptors": {"leak": f"wpkh({xprv}/0/*)"}})
    _assert_not_shown(info.value, [xprv])
    assert "leak" in info.value.field
    for bad in (
        {},
        {"version": 2, "descriptors": {}},
        {"version": 1},
        {"version": 1, "descriptors": {"x": 1}},
        [],
    ):
        with pytest.raises(InputError):
            ReserveDescriptors.from_dict(bad)  # type: ignore[arg-type]
    assert len(ReserveDescriptors.from_dict({"version": 1, "descriptors": {}})) == 0


# --------------------------------------------------------------------------- properties

_VALID_TEXTS = [
    f"wsh(sortedmulti(2,{XPUB_A}/<0;1>/*,{XPUB_B}/<0;1>/*,{XPUB_C}/<0;1>/*))",
    f"wpkh([deadbeef/84h/0h/0h]{XPUB_A}/0/*)",
    f"tr({XPUB_A}/0/*,pk({XPUB_B}/1/*))",
    f"sh(wpkh({PUB_COMPRESSED}))",
]
_DESCRIPTOR_ALPHABET = "()[],/<>;*'h#0123456789abcdefpkhwsrtmulioxpub{}H_:"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_any_printable_text_parses_or_raises_descriptor_error(text: str) -> None:
    try:
        desc = parse_descriptor(text)
    except DescriptorError:
        return
    assert parse_descriptor(desc.normalized) == desc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_VALID_TEXTS),
    st.lists(
        st.tuples(
            st.sampled_from(["delete", "insert", "replace"]),
            st.floats(min_value=0, max_value=1, exclude_max=True),
            st.sampled_from(_DESCRIPTOR_ALPHABET),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_descriptors_parse_or_raise_descriptor_error(
    text: str, edits: list[tuple[str, float, str]]
) -> None:
    for operation, where, char in edits:
        at = int(where * len(text))
        if operation == "delete":
            text = text[:at] + text[at + 1 :]
        elif operation == "insert":
            text = text[:at] + char + text[at:]
        else:
            text = text[:at] + char + text[at + 1 :]
    try:
        desc = parse_descriptor(text)
    except DescriptorError:
        return
    assert parse_descriptor(desc.normalized) == desc
    derive_addresses(desc, 0, 1)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_address_checksum_and_slip132_functions_raise_only_input_errors(text: str) -> None:
    for call in (script_pubkey_from_address, verify_checksum, xpub_from_slip132):
        with contextlib.suppress(InputError):
            call(text)


def test_reserve_file_accepts_a_timelocked_recovery_path() -> None:
    # A 2-of-3 quorum that a recovery key alone can spend after 52,560 blocks (~1 year).
    from hashnation.reserve.descriptors import ReserveDescriptors

    keys = [f"{x}/{i}/*" for i, x in enumerate((XPUB_A, XPUB_B, XPUB_C))]
    text = f"wsh(or_d(multi(2,{','.join(keys)}),and_v(v:pkh({XPUB_A}/9/*),older(52560))))"
    reserve = ReserveDescriptors()
    added = reserve.add("vault", text)
    assert added.kind == "wsh-miniscript"
    again = ReserveDescriptors.from_dict(reserve.to_dict())
    assert again.items()[0][1] == added
    first = derive_addresses(added, 0, 2)
    assert [a.index for a in first] == [0, 1] and first[0].address.startswith("bc1q")
