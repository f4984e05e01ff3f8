"""The HTTP API (FastAPI routers under ``/api/v1``).

:func:`hashnation.api.registry.api_router` serves the virtual-asset regulator's
registry: the public register, firms' applications and returns, and the staff's
review, enforcement, sandbox, token and audit endpoints. Callers authenticate with
``Authorization: Bearer <token>`` (:mod:`hashnation.api.auth`); who may do what is
decided by :class:`hashnation.registry.service.Registry`.
"""
