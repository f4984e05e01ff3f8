"""SQL injection trials: every string field of every operation, fed classic payloads.

:func:`string_fields` lists, from the app's OpenAPI document, every place a caller can put
text: path parameters, query parameters (the pages' search forms included) and string
fields of JSON bodies, nested objects and arrays too (``reserve_assets[].kind``), every
alternative of a ``oneOf``/``anyOf`` body. :data:`PAYLOADS` are the classic probes:
quotes that close a literal, a statement that drops a table, a NUL byte, the ``LIKE``
wildcards, a backslash, odd Unicode. :func:`with_payload` puts one into a request.

:func:`table_counts` (one query) and :func:`stored_texts` read the database back, so that a
trial can check that no table was dropped or emptied, that only an accepted request
added rows, and that an accepted value was stored exactly as sent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from sqlalchemy import Engine, inspect, text

__all__ = [
    "NUMBERS",
    "PAYLOADS",
    "StringField",
    "stored_texts",
    "string_fields",
    "table_counts",
    "with_payload",
]

NUMBERS: Final[tuple[Any, ...]] = (
    2**31,
    2**63,
    10**30,
    -(10**30),
    1e308,
    "1e30",
    "-0",
    "99999999999999999999999999999999.999",
)
"""Numbers past what a column holds (32-bit INTEGER, NUMERIC(20, 2)) or a date can reach."""

PAYLOADS: Final[tuple[str, ...]] = (
    "' OR '1'='1",
    "'; DROP TABLE firms; --",
    "1 UNION SELECT token_sha256 FROM api_tokens --",
    "a\x00b",
    "%",
    "_",
    "\\",
    "Zoë Þórsdóttir ☃ 中文 🙂 \u202e",
)
"""Probes sent as each string field."""

Location = Literal["path", "query", "body"]
_METHODS: Final = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, order=True)
class StringField:
    """A place of an operation that takes text.

    Attributes
    ----------
    method
        HTTP method, upper case.
    path
        The path template (``/api/v1/visa/applications/{reference}``).
    location
        ``path``, ``query`` or ``body``.
    name
        The parameter's name, or the body field's dotted path (``[]`` for an array item).
    """

    method: str
    path: str
    location: Location
    name: str

    @property
    def operation(self) -> str:
        """``METHOD /path``."""
        return f"{self.method} {self.path}"


def _resolve(node: Any, spec: Mapping[str, Any]) -> Any:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _is_kind(schema: Mapping[str, Any], spec: Mapping[str, Any], kinds: frozenset[str]) -> bool:
    schema = _resolve(schema, spec)
    if schema.get("type") in kinds:
        return True
    alternatives = schema.get("anyOf") or schema.get("oneOf") or []
    return any(_is_kind(a, spec, kinds) for a in alternatives)


def _body_fields(
    schema: Any, spec: Mapping[str, Any], prefix: str, kinds: frozenset[str], depth: int = 0
) -> Iterator[str]:
    schema = _resolve(schema, spec)
    if not isinstance(schema, Mapping) or depth > 8:
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for alternative in schema.get(key) or []:
            alt = _resolve(alternative, spec)
            if isinstance(alt, Mapping) and alt.get("type") in kinds and prefix:
                yield prefix
            elif isinstance(alt, Mapping) and alt.get("type") != "null":
                yield from _body_fields(alt, spec, prefix, kinds, depth + 1)
    kind = schema.get("type")
    if kind in kinds and prefix:
        yield prefix
    elif kind == "array":
        yield from _body_fields(schema.get("items") or {}, spec, f"{prefix}[]", kinds, depth + 1)
    elif kind == "object" or "properties" in schema:
        for name, sub in (schema.get("properties") or {}).items():
            path = f"{prefix}.{name}" if prefix else name
            yield from _body_fields(sub, spec, path, kinds, depth + 1)


def string_fields(
    openapi: Mapping[str, Any], kinds: frozenset[str] = frozenset({"string"})
) -> list[StringField]:
    """List every string field of every operation of an OpenAPI document.

    Parameters
    ----------
    openapi
        The document (``app.openapi()``).
    kinds
        The JSON Schema types looked for: ``{"string"}``, or ``{"integer", "number"}``
        for the numeric fields.

    Returns
    -------
    list of StringField
        Sorted, without duplicates.
    """
    found: set[StringField] = set()
    for path, operations in (openapi.get("paths") or {}).items():
        for method in _METHODS:
            operation = operations.get(method)
            if not isinstance(operation, Mapping):
                continue
            for raw in operation.get("parameters") or []:
                parameter = _resolve(raw, openapi)
                where = parameter.get("in")
                if where in ("path", "query") and _is_kind(
                    parameter.get("schema") or {}, openapi, kinds
                ):
                    found.add(StringField(method.upper(), path, where, parameter["name"]))
            body = (operation.get("requestBody") or {}).get("content") or {}
            schema = (body.get("application/json") or {}).get("schema")
            if schema is not None:
                for name in _body_fields(schema, openapi, "", kinds):
                    found.add(StringField(method.upper(), path, "body", name))
    return sorted(found)


def _set(node: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        name = head[:-2]
        items = list(node.get(name) or []) if isinstance(node, Mapping) and name else []
        if not name:
            items = list(node) if isinstance(node, list) else []
        if items and rest:
            items[0] = _set(items[0], rest, value)
        elif rest:
            items = [_set({}, rest, value)]
        else:
            items = [*items, value]
        if not name:
            return items
        return {**(node if isinstance(node, Mapping) else {}), name: items}
    base = dict(node) if isinstance(node, Mapping) else {}
    base[head] = _set(base.get(head), rest, value)
    return base


def with_payload(
    field: StringField,
    payload: Any,
    *,
    path_values: Mapping[str, Any],
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any], Any]:
    """Build the request that sends ``payload`` as ``field``.

    Parameters
    ----------
    field
        The field.
    payload
        The text to send.
    path_values
        Values of the path's other parameters (ids of existing resources).
    body
        A valid body of the operation, whose field is replaced (an array gets the
        payload added); None sends a body holding the field alone.
    query
        Query parameters sent as well.

    Returns
    -------
    tuple of (str, dict, object)
        The URL (path and parameters percent-encoded), the query parameters, and the
        JSON body (None for none).
    """
    values = {k: quote(str(v), safe="") for k, v in path_values.items()}
    params = dict(query or {})
    sent_body: Any = copy.deepcopy(dict(body)) if body is not None else None
    if field.location == "path":
        values[field.name] = quote(str(payload), safe="")
    elif field.location == "query":
        params[field.name] = payload
    else:
        parts = field.name.replace("[]", "[]\x1f").replace(".", "\x1f").split("\x1f")
        sent_body = _set(sent_body or {}, [p for p in parts if p], payload)
    url = field.path.format(**{k: values.get(k, "1") for k in _names(field.path)})
    return url, params, sent_body


def _names(template: str) -> list[str]:
    return [part.split("}")[0] for part in template.split("{")[1:]]


def table_counts(engine: Engine) -> dict[str, int]:
    """Count the rows of every table of a database (one query).

    Parameters
    ----------
    engine
        The database.

    Returns
    -------
    dict of str to int
        Rows by table name, every table found by the database's own catalogue.
    """
    names = sorted(inspect(engine).get_table_names())
    if not names:
        return {}
    preparer = engine.dialect.identifier_preparer
    columns = ", ".join(
        f"(SELECT count(*) FROM {preparer.quote(name)}) AS c{i}" for i, name in enumerate(names)
    )
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT {columns}")).one()
    return {name: int(row[i]) for i, name in enumerate(names)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                decoded = None
            if decoded is not None:
                yield from _strings(decoded)
    elif isinstance(value, bytes | bytearray | memoryview):
        yield bytes(value).decode("utf-8", "replace")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def stored_texts(engine: Engine, tables: list[str] | None = None) -> Iterator[tuple[str, str]]:
    """Read back every text a database holds: each string of each row of each table.

    Parameters
    ----------
    engine
        The database.
    tables
        Only these tables (all when None).

    Yields
    ------
    tuple of (str, str)
        ``(table, text)``: every string column's value, binary columns decoded as UTF-8,
        and every string inside a JSON value.
    """
    names = tables if tables is not None else sorted(inspect(engine).get_table_names())
    preparer = engine.dialect.identifier_preparer
    with engine.connect() as conn:
        for name in names:
            for row in conn.execute(text(f"SELECT * FROM {preparer.quote(name)}")):
                for value in row:
                    for found in _strings(value):
                        yield name, found
