"""The routers of each pillar, in the order the app mounts them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from hashnation.web.app import WebSettings

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
        One router per pillar that has pages to serve.
    """
    found: list[APIRouter] = []
    if settings.reserve_report is not None:
        from hashnation.web.reserve import PublishedReports, reserve_router

        found.append(reserve_router(PublishedReports(settings.reserve_report)))
    if settings.registry_db is not None:
        from hashnation.api.registry import api_router
        from hashnation.registry.service import Registry
        from hashnation.web.register import register_router

        registry = Registry(settings.registry_db)
        found.append(api_router(registry))
        found.append(register_router(registry))

        from hashnation.records.service import RecordsRegistry
        from hashnation.web.records import records_router

        found.append(records_router(RecordsRegistry(registry.engine)))

        from hashnation.api.visa import visa_router
        from hashnation.visa.service import VisaProgramme
        from hashnation.web.visa import visa_page_router

        programme = VisaProgramme(settings.registry_db)
        found.append(visa_router(programme))
        found.append(visa_page_router(programme))
    from hashnation.web.por import por_router

    found.append(por_router())
    return found
