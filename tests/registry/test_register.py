"""The public register: CSV and JSON exports, search."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from hashnation.errors import InputError
from hashnation.registry.licences import LicenceType
from hashnation.registry.register import (
    REGISTER_COLUMNS,
    SERVICES,
    RegisterRow,
    register_csv,
    register_json,
    search,
)


def row(**changes: object) -> RegisterRow:
    values: dict[str, object] = {
        "licence_number": "VA-EXC-0001",
        "entity_name": "Indus Digital Exchange (Pvt) Ltd",
        "commercial_name": "IndusX",
        "registration_number": "0123456",
        "lei": "5493001KJTIIGC8Y1R12",
        "home_country": "PK",
        "competent_authority": "Pakistan Virtual Assets Regulatory Authority",
        "licence_type": "exchange",
        "services": SERVICES[LicenceType.EXCHANGE],
        "status": "licensed",
        "authorisation_date": date(2025, 9, 1),
        "status_date": date(2025, 9, 1),
        "conditions": ("monthly proof of reserves", 'no "margin" trading, ever'),
        "address": "Plot 5, Blue Area\nIslamabad",
        "website": "https://indusx.example",
        "last_updated": date(2025, 9, 2),
        "firm_id": 1,
        "application_id": 10,
    }
    values.update(changes)
    return RegisterRow(**values)  # type: ignore[arg-type]


ROWS = [
    row(),
    row(
        licence_number="VA-CUS-0002",
        entity_name="Karakoram Custody Ltd",
        commercial_name="",
        lei=None,
        licence_type="custodial_wallet",
        services=SERVICES[LicenceType.CUSTODIAL_WALLET],
        status="suspended",
        status_date=date(2025, 11, 3),
        conditions=(),
        firm_id=2,
        application_id=11,
    ),
    row(
        licence_number="VA-BRK-0003",
        entity_name="Ravi Brokers",
        commercial_name="RaviTrade",
        registration_number="7654321",
        lei=None,
        licence_type="broker",
        services=SERVICES[LicenceType.BROKER],
        status="revoked",
        authorisation_date=date(2025, 3, 1),
        conditions=(),
        last_updated=None,
        firm_id=3,
        application_id=12,
    ),
]


def test_row_fields_are_the_columns_then_ids() -> None:
    fields = list(RegisterRow.__dataclass_fields__)
    assert fields == [*REGISTER_COLUMNS, "firm_id", "application_id"]
    assert set(SERVICES) == set(LicenceType) and all(SERVICES.values())


def test_csv_round_trip() -> None:
    text = register_csv(ROWS)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert tuple(header) == REGISTER_COLUMNS
    records = [dict(zip(header, line, strict=True)) for line in reader]
    assert len(records) == len(ROWS)
    for record, original in zip(records, ROWS, strict=True):
        assert record["licence_number"] == original.licence_number
        assert record["address"] == original.address  # embedded newline survives quoting
        assert record["lei"] == (original.lei or "")
        for name in ("authorisation_date", "status_date", "last_updated"):
            value = getattr(original, name)
            assert record[name] == ("" if value is None else value.isoformat())
            if value is not None:
                assert date.fromisoformat(record[name]) == value
        for name in ("services", "conditions"):
            items = getattr(original, name)
            assert (record[name].split("; ") if record[name] else []) == list(items)
    assert records[0]["conditions"] == 'monthly proof of reserves; no "margin" trading, ever'
    text.encode("utf-8")  # plain text, writable as UTF-8
    assert register_csv([]).splitlines() == [",".join(REGISTER_COLUMNS)]


def test_json_shape() -> None:
    document = register_json(ROWS)
    assert json.loads(json.dumps(document)) == document
    assert (document["schema"], document["version"]) == ("hashnation.register", 1)
    assert document["columns"] == list(REGISTER_COLUMNS)
    first, _, third = document["entries"]
    assert set(first) == {*REGISTER_COLUMNS, "firm_id", "application_id"}
    assert first["services"] == list(SERVICES[LicenceType.EXCHANGE])
    assert first["authorisation_date"] == "2025-09-01" and first["application_id"] == 10
    assert third["lei"] is None and third["last_updated"] is None and third["conditions"] == []


@pytest.mark.parametrize(
    ("kwargs", "numbers"),
    [
        ({}, ["VA-EXC-0001", "VA-CUS-0002", "VA-BRK-0003"]),
        ({"query": "  "}, ["VA-EXC-0001", "VA-CUS-0002", "VA-BRK-0003"]),
        ({"query": "KARAKORAM"}, ["VA-CUS-0002"]),
        ({"query": "ravitrade"}, ["VA-BRK-0003"]),  # commercial name
        ({"query": "va-exc"}, ["VA-EXC-0001"]),  # licence number
        ({"query": "7654321"}, ["VA-BRK-0003"]),  # registration number
        ({"query": "ltd"}, ["VA-EXC-0001", "VA-CUS-0002"]),
        ({"licence_type": "broker"}, ["VA-BRK-0003"]),
        ({"status": "Suspended"}, ["VA-CUS-0002"]),
        ({"query": "ltd", "status": "licensed"}, ["VA-EXC-0001"]),
        ({"query": "ltd", "licence_type": "advisor"}, []),
        ({"query": "nobody"}, []),
    ],
)
def test_search(kwargs: dict[str, str], numbers: list[str]) -> None:
    assert [r.licence_number for r in search(ROWS, **kwargs)] == numbers


def test_search_refuses_unknown_filters() -> None:
    with pytest.raises(InputError, match=r"^licence_type: got 'bank'"):
        search(ROWS, licence_type="bank")
    with pytest.raises(InputError, match=r"^status: got 'open'"):
        search(ROWS, status="open")
