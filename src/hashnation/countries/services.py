"""The pillars' orchestrators set up with a country pack's rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import URL, Engine

from hashnation.countries.pack import CountryPack
from hashnation.registry.service import Registry
from hashnation.visa.rules import VisaRules

__all__ = ["pack_registry", "pack_visa_rules"]


def pack_registry(
    pack: CountryPack,
    bind: Engine | str | URL | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Registry:
    """Open the registry with the pack's authority, country and licence rules.

    Parameters
    ----------
    pack
        The country pack.
    bind
        Engine or database URL (see :class:`~hashnation.registry.service.Registry`).
    clock
        Returns the current time (timezone-aware).

    Returns
    -------
    Registry
        The registry; close it (or use it as a context manager) when done.
    """
    return Registry(
        bind,
        authority=pack.authority,
        country=pack.iso2,
        clock=clock,
        licences=pack.licences,
        licence_prefix=pack.licence_prefix,
    )


def pack_visa_rules(
    pack: CountryPack, *, price_usd_per_btc: Decimal | None = None
) -> VisaRules | None:
    """Turn the pack's visa terms into rules; None when it runs no visa programme.

    Parameters
    ----------
    pack
        The country pack.
    price_usd_per_btc
        The price to convert the USD fee at [USD/BTC]; the pack's stated price when None.

    Returns
    -------
    VisaRules or None
        The rules (validated), or None when the pack runs no visa programme.
    """
    terms = pack.visa
    if terms is None:
        return None
    return VisaRules(
        price_usd_per_btc=price_usd_per_btc or terms.price_usd_per_btc,
        amount_usd=terms.amount_usd,
        invoice_validity_hours=terms.invoice_validity_hours,
        confirmations_required=terms.confirmations_required,
        yearly_quota=terms.yearly_quota,
        tolerance_sat=terms.tolerance_sat,
    )
