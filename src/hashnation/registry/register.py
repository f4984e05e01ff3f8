"""The public register of licensed virtual-asset service providers.

One :class:`RegisterRow` per licence that is or was in force (statuses in
:data:`~hashnation.registry.workflow.PUBLIC`), exported as CSV
(:func:`register_csv`) or JSON (:func:`register_json`) and filtered by
:func:`search`.

The columns follow the CSV file of ESMA's interim MiCA register of
crypto-asset service providers (``CASPS.csv``) where a national register has
an equivalent:

=================================== =======================
ESMA ``CASPS.csv`` column            this register
=================================== =======================
``ae_lei_name``                      ``entity_name``
``ae_commercial_name``               ``commercial_name``
``ae_lei``                           ``lei``
``ae_homeMemberState``               ``home_country``
``ae_competentAuthority``            ``competent_authority``
``ac_serviceCode``                   ``services``
``ac_authorisationNotificationDate`` ``authorisation_date``
``ac_authorisationEndDate``          ``status_date`` (of a revocation or surrender)
``ac_comments``                      ``conditions``
``ae_address``                       ``address``
``ae_website``                       ``website``
``ac_lastupdate``                    ``last_updated``
=================================== =======================

ESMA's passporting columns (``ac_serviceCode_cou``, ``ae_lei_cou_code``,
``ae_website_platform``) have no national equivalent and are left out. Added
for a national regulator: ``licence_number``, ``registration_number`` (company
registry), ``licence_type`` and ``status``. Dates are ISO 8601
(``YYYY-MM-DD``) rather than ESMA's ``DD/MM/YYYY``, and lists are joined by
``"; "`` in CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from hashnation.registry.licences import LicenceType, licence_spec
from hashnation.registry.workflow import parse_status

__all__ = [
    "LIST_SEPARATOR",
    "REGISTER_COLUMNS",
    "REGISTER_SCHEMA",
    "SERVICES",
    "RegisterRow",
    "register_csv",
    "register_json",
    "search",
]

REGISTER_COLUMNS: tuple[str, ...] = (
    "licence_number",
    "entity_name",
    "commercial_name",
    "registration_number",
    "lei",
    "home_country",
    "competent_authority",
    "licence_type",
    "services",
    "status",
    "authorisation_date",
    "status_date",
    "conditions",
    "address",
    "website",
    "last_updated",
)
"""Columns of the register, in export order."""

REGISTER_SCHEMA = "hashnation.register"
"""The ``schema`` name written in JSON exports."""

LIST_SEPARATOR = "; "
"""Separator of list values (services, conditions) in a CSV cell."""

# Services in words, modelled on MiCA's list of crypto-asset services; a country pack
# can replace them with its own law's wording.
SERVICES: Mapping[LicenceType, tuple[str, ...]] = MappingProxyType(
    {
        LicenceType.EXCHANGE: (
            "operation of a trading platform for virtual assets",
            "exchange of virtual assets for funds",
            "exchange of virtual assets for other virtual assets",
            "custody and administration of virtual assets on behalf of clients",
        ),
        LicenceType.CUSTODIAL_WALLET: (
            "custody and administration of virtual assets on behalf of clients",
            "transfer services for virtual assets on behalf of clients",
        ),
        LicenceType.BROKER: (
            "execution of orders for virtual assets on behalf of clients",
            "reception and transmission of orders for virtual assets",
            "placing of virtual assets",
        ),
        LicenceType.STABLECOIN_ISSUER: (
            "issuance of fiat-referenced stablecoins",
            "redemption of stablecoins at par",
        ),
        LicenceType.ADVISOR: (
            "advice on virtual assets",
            "portfolio management of virtual assets",
        ),
    }
)


@dataclass(frozen=True)
class RegisterRow:
    """One entry of the public register.

    Parameters
    ----------
    licence_number
        The licence's number (``VA-EXC-0007``).
    entity_name
        Legal name of the firm.
    commercial_name
        Trading or brand name (may be empty).
    registration_number
        Number in the company registry.
    lei
        Legal Entity Identifier (20 characters), if the firm has one.
    home_country
        ISO 3166-1 alpha-2 code of the licensing country (``PK``).
    competent_authority
        Name of the regulator that granted the licence.
    licence_type
        Licence type value (``exchange``).
    services
        Services the licence covers, in words.
    status
        Status value (``licensed``, ``suspended``, ``revoked``, ...).
    authorisation_date
        Day the licence was granted.
    status_date
        Day the current status began.
    conditions
        Conditions attached to the licence.
    address
        Registered address.
    website
        Website address.
    last_updated
        Day the entry last changed.
    firm_id
        The firm's id in the store.
    application_id
        The licence application's id in the store.
    """

    licence_number: str
    entity_name: str
    commercial_name: str
    registration_number: str
    lei: str | None
    home_country: str
    competent_authority: str
    licence_type: str
    services: tuple[str, ...]
    status: str
    authorisation_date: date | None
    status_date: date | None
    conditions: tuple[str, ...]
    address: str
    website: str
    last_updated: date | None
    firm_id: int
    application_id: int


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


def _json_value(value: object) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [str(item) for item in value]
    if value is None:
        return None
    return str(value)


def register_csv(rows: Iterable[RegisterRow]) -> str:
    """Write the register as CSV text.

    Parameters
    ----------
    rows
        The entries, in the order to write them.

    Returns
    -------
    str
        A header of :data:`REGISTER_COLUMNS`, then one line per entry (RFC 4180
        quoting, CRLF line ends); dates ISO, lists joined by ``"; "``, missing
        values empty. Encode it as UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REGISTER_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in REGISTER_COLUMNS])
    return buffer.getvalue()


def register_json(rows: Iterable[RegisterRow]) -> dict[str, Any]:
    """Write the register as a JSON-ready document.

    Parameters
    ----------
    rows
        The entries, in the order to write them.

    Returns
    -------
    dict
        ``{"schema": "hashnation.register", "version": 1, "columns": [...],
        "entries": [...]}``; each entry maps every column to its value (dates
        ISO strings, lists as lists, missing values None) and adds ``firm_id``
        and ``application_id``.
    """
    entries = []
    for row in rows:
        entry = {column: _json_value(getattr(row, column)) for column in REGISTER_COLUMNS}
        entry["firm_id"] = row.firm_id
        entry["application_id"] = row.application_id
        entries.append(entry)
    return {
        "schema": REGISTER_SCHEMA,
        "version": 1,
        "columns": list(REGISTER_COLUMNS),
        "entries": entries,
    }


def search(
    rows: Sequence[RegisterRow],
    *,
    query: str | None = None,
    licence_type: str | None = None,
    status: str | None = None,
) -> list[RegisterRow]:
    """Entries that match every filter given.

    Parameters
    ----------
    rows
        The entries.
    query
        Text found, ignoring case, in the entity or commercial name, the licence,
        registration number or the LEI; blank matches all.
    licence_type
        Only this licence type (``exchange``).
    status
        Only this status (``licensed``).

    Returns
    -------
    list of RegisterRow
        The matching entries, in their order.

    Raises
    ------
    InputError
        If ``licence_type`` or ``status`` names no licence type or status.
    """
    wanted_type = None if not licence_type else licence_spec(licence_type.strip().lower()).type
    wanted_status = None if not status else parse_status(status)
    needle = (query or "").strip().casefold()
    found = []
    for row in rows:
        if wanted_type is not None and row.licence_type != wanted_type.value:
            continue
        if wanted_status is not None and row.status != wanted_status.value:
            continue
        if needle:
            haystack = (
                row.entity_name,
                row.commercial_name,
                row.licence_number,
                row.registration_number,
                row.lei or "",
            )
            if not any(needle in text.casefold() for text in haystack):
                continue
        found.append(row)
    return found
