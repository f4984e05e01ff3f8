"""The customer's proof-of-liabilities check, run in the browser: ``GET /por/verify``.

The page is one self-contained HTML document (inline style and script, no
external asset, no request after it loads). A customer pastes the proof file
their custodian gave them (``proofs/<id>.json``) and, optionally, their id and
the custodian's published ``root.json``; the script recomputes the leaf and
every node with WebCrypto's SHA-256 and shows the same checks, under the same
names, as ``hashnation por verify-inclusion``
(:func:`hashnation.proofs.liabilities.verify_inclusion`). The proof never
leaves the browser: the Content-Security-Policy allows this page's own script
and style (by hash) and forbids every connection.
"""

from __future__ import annotations

import base64
import hashlib
import json

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hashnation.proofs.assets import ASSETS
from hashnation.proofs.documents import AMOUNT_PATTERN, CUSTOMER_ID_PATTERN
from hashnation.proofs.hashing import MAX_PARTS

__all__ = ["PAGE_HTML", "por_router"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.4rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
textarea, input { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace;
  font-size: 0.85rem; padding: 0.4rem; }
button { margin-top: 1rem; padding: 0.5rem 1.4rem; font-size: 1rem; }
#verdict { font-size: 1.2rem; font-weight: 700; }
.ok { color: #116329; } .fail { color: #a40e26; }
ul { list-style: none; padding-left: 0; font-family: ui-monospace, monospace; font-size: 0.85rem; }
"""

_SCRIPT = r"""
"use strict";
const MAX = (1n << 63n) - 1n;
const UNITS = __UNITS__;
const MAX_PARTS = __MAX_PARTS__;
const AMOUNT = new RegExp(__AMOUNT__);
const CUSTOMER = new RegExp(__CUSTOMER__);
const CUSTODIAN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ASSET = /^[A-Z][A-Z0-9]{1,11}$/;
const HEX32 = /^[0-9a-f]{64}$/;
const enc = new TextEncoder();

class Refused extends Error {}

function refuse(where, what) {
  throw new Refused(where + ": " + what);
}

function keys(obj, where, wanted) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    refuse(where, "expected an object");
  }
  for (const k of Object.keys(obj)) {
    if (!wanted.includes(k)) refuse(where + "." + k, "unknown key");
  }
  for (const k of wanted) {
    if (!(k in obj)) refuse(where + "." + k, "missing");
  }
}

function int(value, where, lo, hi) {
  if (!Number.isSafeInteger(value) || value < lo || value > hi) {
    refuse(where, "expected an int in [" + lo + ", " + hi + "]");
  }
  return value;
}

function amount(value, where) {
  let n;
  if (typeof value === "string" && AMOUNT.test(value)) n = BigInt(value);
  else if (Number.isSafeInteger(value) && value >= 0) n = BigInt(value);
  else refuse(where, "expected an amount as a decimal string");
  if (n > MAX) refuse(where, "expected an amount in [0, 2**63 - 1]");
  return n;
}

function text(value, where, pattern) {
  if (typeof value !== "string" || !pattern.test(value)) refuse(where, "malformed");
  return value;
}

function bitLength(n) {
  return n === 0 ? 0 : n.toString(2).length;
}

function list(value, where, lo, hi) {
  if (!Array.isArray(value) || value.length < lo || value.length > hi) {
    refuse(where, "expected a list of " + lo + " to " + hi + " items");
  }
  return value;
}

function readRoot(r, where) {
  keys(r, where, ["asset", "unit", "digest", "total", "leaf_count", "depth"]);
  const root = {
    asset: text(r.asset, where + ".asset", ASSET),
    unit: r.unit,
    digest: text(r.digest, where + ".digest", HEX32),
    total: amount(r.total, where + ".total"),
    leaf_count: int(r.leaf_count, where + ".leaf_count", 1, 2 ** 40),
    depth: int(r.depth, where + ".depth", 0, 40),
  };
  if (UNITS[root.asset] === undefined) refuse(where + ".asset", "unknown asset");
  if (root.unit !== UNITS[root.asset]) refuse(where + ".unit", "expected " + UNITS[root.asset]);
  if (root.depth !== bitLength(root.leaf_count - 1)) {
    refuse(where + ".depth", "expected ceil(log2(leaf_count))");
  }
  return root;
}

function sortedUnique(codes, where) {
  const sorted = [...new Set(codes)].sort();
  if (sorted.length !== codes.length || sorted.some((v, i) => v !== codes[i])) {
    refuse(where, "sorted by asset code, each once");
  }
}

function readStep(s, at) {
  keys(s, at, ["digest", "sum"]);
  return { digest: text(s.digest, at + ".digest", HEX32), sum: amount(s.sum, at + ".sum") };
}

function readLeaf(l, at) {
  keys(l, at, ["part", "amount", "index", "path"]);
  return {
    part: int(l.part, at + ".part", 0, MAX_PARTS - 1),
    amount: amount(l.amount, at + ".amount"),
    index: int(l.index, at + ".index", 0, 2 ** 40 - 1),
    path: list(l.path, at + ".path", 0, 40).map((s, k) => readStep(s, at + ".path." + k)),
  };
}

function readEntry(a, where) {
  keys(a, where, ["asset", "balance", "root", "leaves"]);
  const entry = {
    asset: text(a.asset, where + ".asset", ASSET),
    balance: amount(a.balance, where + ".balance"),
    root: readRoot(a.root, where + ".root"),
    leaves: list(a.leaves, where + ".leaves", 1, MAX_PARTS).map(
      (l, j) => readLeaf(l, where + ".leaves." + j)),
  };
  if (entry.root.asset !== entry.asset) {
    refuse(where + ".root.asset", "expected " + entry.asset);
  }
  return entry;
}

function readProof(doc) {
  keys(doc, "proof",
    ["format", "version", "custodian", "height", "customer_id", "nonce", "assets"]);
  if (doc.format !== "hashnation-por-inclusion-proof") {
    refuse("proof.format", "expected hashnation-por-inclusion-proof");
  }
  if (doc.version !== 1) refuse("proof.version", "expected 1");
  const proof = {
    custodian: text(doc.custodian, "proof.custodian", CUSTODIAN),
    height: int(doc.height, "proof.height", 0, 2 ** 31 - 1),
    customer_id: text(doc.customer_id, "proof.customer_id", CUSTOMER),
    nonce: text(doc.nonce, "proof.nonce", HEX32),
    assets: list(doc.assets, "proof.assets", 1, 64).map(
      (a, i) => readEntry(a, "proof.assets." + i)),
  };
  sortedUnique(proof.assets.map((a) => a.asset), "proof.assets");
  return proof;
}

function readPublished(doc) {
  keys(doc, "root.json", ["format", "version", "custodian", "height", "assets"]);
  if (doc.format !== "hashnation-por-liabilities-root" || doc.version !== 1) {
    refuse("root.json.format", "expected hashnation-por-liabilities-root version 1");
  }
  const published = {
    custodian: text(doc.custodian, "root.json.custodian", CUSTODIAN),
    height: int(doc.height, "root.json.height", 0, 2 ** 31 - 1),
    assets: list(doc.assets, "root.json.assets", 1, 64).map(
      (r, i) => readRoot(r, "root.json.assets." + i)),
  };
  sortedUnique(published.assets.map((a) => a.asset), "root.json.assets");
  return published;
}

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u64(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, false);
  return b;
}

function u32(n) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

function field(s) {
  const raw = enc.encode(s);
  return concat([Uint8Array.of(raw.length), raw]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function leafDigest(nonce, asset, customerId, part, value) {
  return sha256(concat(
    [Uint8Array.of(0), nonce, field(asset), field(customerId), u32(part), u64(value)]));
}

function nodeDigest(left, leftSum, right, rightSum) {
  return sha256(concat([Uint8Array.of(1), left, u64(leftSum), right, u64(rightSum)]));
}

function sameRoot(a, b) {
  return a !== undefined && a.asset === b.asset && a.unit === b.unit &&
    a.digest === b.digest && a.total === b.total && a.leaf_count === b.leaf_count &&
    a.depth === b.depth;
}

async function leafChecks(proof, entry, leaf, nonce, add) {
  const label = entry.asset + " leaf " + leaf.index;
  const root = entry.root;
  const inRange = leaf.amount >= 0n && leaf.amount <= MAX;
  add(label + ": amount in range", inRange, leaf.amount + " outside [0, 2**63 - 1]");
  const fits = leaf.path.length === root.depth && leaf.index < root.leaf_count;
  add(label + ": path fits the tree", fits, leaf.path.length + " steps for depth " +
    root.depth + ", index " + leaf.index + " of " + root.leaf_count + " leaves");
  if (!inRange) {
    add(label + ": sibling sums in range", false, "amount out of range");
    return;
  }
  let digest = await leafDigest(nonce, entry.asset, proof.customer_id, leaf.part, leaf.amount);
  let total = leaf.amount;
  let fault = "";
  for (let level = 0; level < leaf.path.length; level++) {
    const step = leaf.path[level];
    if (step.sum < 0n || step.sum > MAX) {
      fault = "level " + level + ": sibling sum " + step.sum + " outside [0, 2**63 - 1]";
      break;
    }
    const sibling = hexToBytes(step.digest);
    if (Math.floor(leaf.index / 2 ** level) % 2 === 1) {
      digest = await nodeDigest(sibling, step.sum, digest, total);
    } else {
      digest = await nodeDigest(digest, total, sibling, step.sum);
    }
    total += step.sum;
    if (total > MAX) {
      fault = "level " + (level + 1) + ": sum " + total + " passes 2**63 - 1";
      break;
    }
  }
  add(label + ": sibling sums in range", !fault, fault);
  if (fault) return;
  const found = bytesToHex(digest);
  add(label + ": root digest", found === root.digest, "recomputed " + found);
  add(label + ": root total", total === root.total,
    "recomputed " + total + ", published " + root.total);
}

async function verifyProof(proof, published, customerId) {
  const checks = [];
  const add = (name, ok, detail) => checks.push({ name, ok, detail: ok ? "" : detail });
  if (customerId !== null) {
    add("customer id", proof.customer_id === customerId,
      "proof is for '" + proof.customer_id + "'");
  }
  if (published !== null) {
    const mismatch = [];
    if (published.custodian !== proof.custodian || published.height !== proof.height) {
      mismatch.push("custodian/height differ");
    }
    const byAsset = Object.fromEntries(published.assets.map((a) => [a.asset, a]));
    for (const entry of proof.assets) {
      if (!sameRoot(byAsset[entry.asset], entry.root)) {
        mismatch.push(entry.asset + " root differs from the published one");
      }
    }
    add("published root", mismatch.length === 0, mismatch.join("; "));
  }
  const nonce = hexToBytes(proof.nonce);
  const balances = [];
  for (const entry of proof.assets) {
    for (const leaf of entry.leaves) await leafChecks(proof, entry, leaf, nonce, add);
    const parts = entry.leaves.map((l) => l.part);
    const indices = entry.leaves.map((l) => l.index);
    const distinct = new Set(parts).size === parts.length &&
      new Set(indices).size === indices.length;
    add(entry.asset + " leaves distinct", distinct, "parts " + parts + ", indices " + indices);
    const stated = entry.leaves.reduce((n, l) => n + l.amount, 0n);
    add(entry.asset + " balance = sum of leaves", stated === entry.balance,
      "leaves sum to " + stated + ", balance " + entry.balance);
    balances.push([entry.asset, entry.balance, entry.root.unit]);
  }
  return { checks, balances };
}

function show(verdict, checks, balances) {
  const shown = document.getElementById("checks");
  const owned = document.getElementById("balances");
  shown.replaceChildren();
  owned.replaceChildren();
  for (const c of checks) {
    const li = document.createElement("li");
    li.className = c.ok ? "ok" : "fail";
    li.dataset.name = c.name;
    li.dataset.ok = c.ok ? "true" : "false";
    const detail = c.ok || !c.detail ? "" : " (" + c.detail + ")";
    li.textContent = (c.ok ? "\u2713 " : "\u2717 ") + c.name + detail;
    shown.append(li);
  }
  for (const [asset, balance, unit] of balances) {
    const li = document.createElement("li");
    li.textContent = asset + " balance " + balance + " " + unit;
    owned.append(li);
  }
  const out = document.getElementById("verdict");
  out.textContent = verdict;
  out.className = verdict.startsWith("VALID") ? "ok" : "fail";
}

async function run() {
  document.body.dataset.state = "running";
  try {
    let proof;
    let published = null;
    try {
      proof = readProof(JSON.parse(document.getElementById("proof").value));
      const rootText = document.getElementById("root").value.trim();
      if (rootText) published = readPublished(JSON.parse(rootText));
    } catch (e) {
      if (!(e instanceof Refused || e instanceof SyntaxError)) throw e;
      show("INVALID: not a proof this page can read",
        [{ name: "proof file", ok: false, detail: e.message }], []);
      return;
    }
    const typed = document.getElementById("customer").value.trim();
    const { checks, balances } = await verifyProof(proof, published, typed ? typed : null);
    const ok = checks.every((c) => c.ok);
    const verdict = (ok ? "VALID" : "INVALID") + ": proof of " + proof.customer_id +
      " at height " + proof.height;
    show(verdict, checks, balances);
  } finally {
    document.body.dataset.state = "done";
  }
}

document.getElementById("verify").addEventListener("click", () => {
  run();
});
"""

_BODY = """<main>
<h1>Check that your balance is in your custodian's liabilities</h1>
<p>Paste the proof file your custodian gave you (<code>proofs/&lt;your id&gt;.json</code>).
This page recomputes your leaf and every node up to the root with your browser's own
SHA-256. Nothing you paste is sent anywhere: the page is not allowed to connect to any
server.</p>
<label for="proof">Your proof</label>
<textarea id="proof" rows="14" spellcheck="false" autocomplete="off"></textarea>
<label for="customer">Your customer id (optional: checks the proof is yours)</label>
<input id="customer" autocomplete="off" spellcheck="false">
<label for="root">The custodian's published root.json (optional: checks the proof is
against it)</label>
<textarea id="root" rows="6" spellcheck="false" autocomplete="off"></textarea>
<button id="verify" type="button">Verify</button>
<p id="verdict" role="status" aria-live="polite"></p>
<ul id="checks"></ul>
<ul id="balances"></ul>
</main>"""


def _script() -> str:
    units = {code: asset.unit for code, asset in sorted(ASSETS.items())}
    return (
        _SCRIPT.replace("__UNITS__", json.dumps(units))
        .replace("__MAX_PARTS__", str(MAX_PARTS))
        .replace("__AMOUNT__", json.dumps(AMOUNT_PATTERN))
        .replace("__CUSTOMER__", json.dumps(CUSTOMER_ID_PATTERN))
    )


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


_SCRIPT_TEXT = _script()
PAGE_HTML = (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    "<title>Verify your proof of liabilities</title>\n"
    f"<style>{_STYLE}</style>\n</head>\n<body>\n{_BODY}\n"
    f"<script>{_SCRIPT_TEXT}</script>\n</body>\n</html>\n"
)
"""The whole page, with its inline style and script."""

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {_csp_hash(_SCRIPT_TEXT)}; "
    f"style-src {_csp_hash(_STYLE)}; connect-src 'none'; img-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Only this page's own script and style run; no connection, no form, no frame."""


def por_router() -> APIRouter:
    """Return the router of the proof-of-liabilities page.

    Returns
    -------
    APIRouter
        ``GET /por/verify``: the self-contained verification page.
    """
    router = APIRouter(tags=["proof of reserves"])

    @router.get("/por/verify", response_class=HTMLResponse)
    def verify_page() -> HTMLResponse:
        """Serve the in-browser inclusion-proof verifier."""
        return HTMLResponse(
            PAGE_HTML,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router
