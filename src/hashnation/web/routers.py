"""The routers of each pillar, in the order the app mounts them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from hashnation.countries import DEFAULT_COUNTRY

if TYPE_CHECKING:
    from hashnation.records.service import RecordsRegistry
    from hashnation.registry.service import Registry
    from hashnation.web.app import WebSettings
    from hashnation.web.reserve import PublishedReports

__all__ = ["all_routers"]


def all_routers(settings: WebSettings) -> list[APIRouter]:
    """Return the routers to mount for ``settings``.

    Parameters
    ----------
    settings
        What the app serves.

    Returns
    -------
    list of APIRouter
        One router per pillar that has pages to serve, and the country's portal at ``/``.
    """
    from hashnation.countries import load_pack

    pack = load_pack(settings.country or DEFAULT_COUNTRY)
    found: list[APIRouter] = []
    reserve: PublishedReports | None = None
    registry: Registry | None = None
    records: RecordsRegistry | None = None
    if settings.reserve_report is not None:
        from hashnation.web.reserve import PublishedReports, reserve_router

        reserve = PublishedReports(settings.reserve_report)
        found.append(reserve_router(reserve))
    if settings.registry_db is not None:
        from hashnation.api.registry import api_router
        from hashnation.countries.services import pack_registry
        from hashnation.web.register import register_router

        registry = pack_registry(pack, settings.registry_db)
        found.append(api_router(registry))
        found.append(register_router(registry))

        from hashnation.records.service import RecordsRegistry
        from hashnation.web.records import records_router

        records = RecordsRegistry(registry.engine)
        found.append(records_router(records))

        from hashnation.api.visa import visa_router
        from hashnation.visa.service import VisaProgramme
        from hashnation.web.visa import visa_page_router

        programme = VisaProgramme(settings.registry_db)
        found.append(visa_router(programme))
        found.append(visa_page_router(programme))
    from hashnation.web.portal import portal_router

    found.append(portal_router(settings, registry=registry, records=records, reserve=reserve))
    from hashnation.web.por import por_router

    found.append(por_router())
    return found
