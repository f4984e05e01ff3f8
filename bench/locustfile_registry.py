"""Locust users for ``bench_registry_load.py``: register readers, filing firms, a baseline.

The plan (firm ids, licences with their filing tokens and periods, search terms)
is a JSON file written by the benchmark and named by ``HASHNATION_BENCH_PLAN``.
Every user starts its tasks as a Poisson process of ``HASHNATION_BENCH_USER_RATE``
tasks per second (:func:`poisson_throughput`), so the users together offer a
Poisson stream at their number times that rate: arrivals at random moments, as
from many independent clients. (Locust's ``constant_throughput`` would make the
users that start together fire together, every period, so that the server sees
bursts of all of them at once: queueing that a real population of clients does
not cause.)

``RegistryUser`` is the mix: about 80 % reads of the public register (HTML search
pages, HTML firm pages, the JSON search, JSON firm records and now and then the
whole CSV) and 20 % returns filed through the API by licensed firms. Each filing
is a valid return for a period that has ended, so every POST stores a new version
of that period (an amendment) and appends to the audit log. ``BaselineUser`` asks
for ``/healthz`` only: the cost of the server, the network and Locust themselves.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, events, task
from locust.env import Environment

PLAN: dict[str, Any] = (
    json.loads(Path(os.environ["HASHNATION_BENCH_PLAN"]).read_text(encoding="utf-8"))
    if "HASHNATION_BENCH_PLAN" in os.environ
    else {"firm_ids": [1], "filers": [], "terms": ["exchange"], "licence_types": ["exchange"]}
)
USER_RATE = float(os.environ.get("HASHNATION_BENCH_USER_RATE", "1"))
SETTLE_S = float(os.environ.get("HASHNATION_BENCH_SETTLE_S", "0"))


@events.init.add_listener  # type: ignore[untyped-decorator]
def _reset_after_settling(environment: Environment, **_kwargs: Any) -> None:
    """Start counting ``SETTLE_S`` seconds after the last user is spawned."""

    def spawned(**_: Any) -> None:
        if environment.runner is not None:
            gevent.spawn_later(SETTLE_S, environment.runner.stats.reset_all)

    environment.events.spawning_complete.add_listener(spawned)  # type: ignore[no-untyped-call]


def poisson_throughput(rate: float) -> Callable[[Any], float]:
    """A Locust ``wait_time`` that starts tasks as a Poisson process of ``rate`` per second.

    Parameters
    ----------
    rate
        Mean task starts per second of one user [1/s].

    Returns
    -------
    callable
        ``wait_time(user)``: seconds until the user's next scheduled start. The
        schedule draws exponential gaps from the previous *scheduled* start; a user
        that falls behind (slow responses) starts at once, without bursting to
        catch up.
    """

    def wait_time(user: Any) -> float:
        now = time.monotonic()
        previous = getattr(user, "_next_start", now)
        scheduled = max(previous + random.expovariate(rate), now)
        user._next_start = scheduled
        return scheduled - now

    return wait_time


def return_body(licence_type: str, start: str, end: str, k: int) -> dict[str, Any]:
    """A valid periodic return of ``licence_type`` for the period ``start`` to ``end``.

    Parameters
    ----------
    licence_type
        The licence's type.
    start, end
        First and last day of the period, ISO.
    k
        A number varying the figures.

    Returns
    -------
    dict
        The JSON body.
    """
    received = 2 + k % 7
    body: dict[str, Any] = {
        "licence_type": licence_type,
        "period_start": start,
        "period_end": end,
        "customers": 5_000 + 37 * k,
        "complaints_received": received,
        "complaints_resolved": received,
        "capital_usd": "20000000",
        "incidents": [],
    }
    if licence_type == "exchange":
        body["customer_assets_btc_sat"] = (40 + k % 50) * 100_000_000
        body["customer_assets_fiat_usd"] = str(Decimal(2_500_000 + 1_000 * k))
        body["trading_volume_usd"] = str(Decimal(18_000_000 + 10_000 * k))
    elif licence_type == "custodial_wallet":
        held = (120 + k % 40) * 100_000_000
        body["customer_assets_btc_sat"] = held
        body["cold_storage_btc_sat"] = held * 9 // 10
    elif licence_type == "broker":
        body["client_orders"] = 4_000 + k
        body["volume_usd"] = str(Decimal(6_500_000 + 1_000 * k))
        body["client_money_usd"] = str(Decimal(900_000 + 100 * k))
    elif licence_type == "stablecoin_issuer":
        outstanding = Decimal(40_000_000 + 1_000 * k)
        body["tokens_outstanding_usd"] = str(outstanding)
        body["reserve_assets"] = [
            {"kind": "treasury_bills", "amount_usd": str(outstanding * Decimal("0.72"))},
            {"kind": "bank_deposits", "amount_usd": str(outstanding * Decimal("0.30"))},
        ]
    else:
        body["clients_advised"] = 140 + k % 90
    return body


class _PacedUser(FastHttpUser):
    """A user that opens its connection while the users are being spawned.

    The statistics are reset a few seconds after every user is running
    (``HASHNATION_BENCH_SETTLE_S``); the request made in :meth:`on_start` comes
    before that, so the numbers do not count the TCP connections users open.
    """

    abstract = True
    wait_time = poisson_throughput(USER_RATE)

    def on_start(self) -> None:
        """Open the keep-alive connection."""
        self.client.get("/healthz", name="connect")


class RegistryUser(_PacedUser):
    """The mix: 80 % public register reads, 20 % returns filed by licensed firms."""

    def _term(self) -> str:
        return str(random.choice(PLAN["terms"]))

    @task(28)
    def register_search_page(self) -> None:
        """HTML search page of the register, with a search term, a type or a page."""
        choice = random.random()
        if choice < 0.5:
            params = {"q": self._term()}
        elif choice < 0.75:
            params = {"licence_type": random.choice(PLAN["licence_types"])}
        else:
            params = {"page": str(random.randint(1, 10))}
        self.client.get("/register/", params=params, name="page: register search")

    @task(20)
    def firm_page(self) -> None:
        """HTML public record of one firm."""
        firm_id = random.choice(PLAN["firm_ids"])
        self.client.get(f"/register/firm/{firm_id}", name="page: firm record")

    @task(18)
    def api_register(self) -> None:
        """JSON search of the register."""
        params = {"q": self._term(), "limit": "50"}
        self.client.get("/api/v1/register", params=params, name="api: register search")

    @task(13)
    def api_firm_record(self) -> None:
        """JSON public record of one firm."""
        firm_id = random.choice(PLAN["firm_ids"])
        self.client.get(f"/api/v1/register/{firm_id}", name="api: firm record")

    @task(1)
    def register_csv(self) -> None:
        """The whole register as CSV."""
        self.client.get("/api/v1/register.csv", name="api: register.csv")

    @task(20)
    def file_return(self) -> None:
        """A licensed firm files (amends) a return for a past period: a real write."""
        filer = random.choice(PLAN["filers"])
        start, end = random.choice(filer["periods"])
        body = return_body(filer["licence_type"], start, end, random.randint(0, 10_000))
        with self.client.post(
            f"/api/v1/applications/{filer['application_id']}/returns",
            json=body,
            headers={"Authorization": f"Bearer {filer['token']}"},
            name="api: file return",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class BaselineUser(_PacedUser):
    """``GET /healthz`` only, at the same pace: the floor of the server's latency."""

    @task
    def healthz(self) -> None:
        """The health check (no database)."""
        self.client.get("/healthz", name="baseline: /healthz")
