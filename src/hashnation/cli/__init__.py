"""Command line interface: ``hashnation`` (Typer + Rich).

Entry point :func:`hashnation.cli.main.main`; one sub-command group per pillar
(``mining``, ``data``, ``bitcoin``). Errors a user can fix are printed as one
line, ``error: <message>``, with exit code 2 (:mod:`hashnation.cli.errors`).
"""
