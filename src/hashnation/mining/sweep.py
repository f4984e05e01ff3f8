"""Design sweep: Monte Carlo risk of many site designs on a grid of choices.

:func:`sweep` crosses site power, flat tariff and (optionally) ASIC mixes,
runs the Monte Carlo of every design with the same seed (common random
numbers: path ``i`` sees the same price, fee, block-luck, failure and surplus
draws in every design, so designs are compared on the same futures) and the
deterministic model, and returns one tidy row per design.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from hashnation.data.loaders import asic_spec
from hashnation.errors import DataError, InputError
from hashnation.mining.drivers import DriverParams
from hashnation.mining.scenario import MAX_PKR_PER_KWH, MAX_USD_PER_KWH, Scenario, parse_scenario
from hashnation.mining.sensitivity import DEFAULT_SEED, Progress, run_designs

__all__ = ["MAX_SITE_POWER_MW", "SWEEP_COLUMNS", "mix_label", "sweep"]

TariffUnit = Literal["pkr_per_kwh", "usd_per_kwh"]
MAX_SITE_POWER_MW = 100_000.0
"""Largest site power a scenario accepts [MW]."""

SWEEP_COLUMNS: tuple[str, ...] = (
    "npv_p5_usd",
    "npv_p50_usd",
    "npv_p95_usd",
    "npv_mean_usd",
    "p_loss",
    "var_usd",
    "cvar_usd",
    "btc_mined_p50",
    "cost_usd_per_btc_p50",
    "emissions_tco2_p50",
    "deterministic_npv_usd",
)
"""Result columns of :func:`sweep`, after the design columns."""

_TARIFF_MAX = {"pkr_per_kwh": MAX_PKR_PER_KWH, "usd_per_kwh": MAX_USD_PER_KWH}
_TARIFF_UNIT_TEXT = {"pkr_per_kwh": "PKR/kWh", "usd_per_kwh": "USD/kWh"}


def mix_label(mix: Sequence[tuple[str, float]]) -> str:
    """Short label of an ASIC mix: ``"Antminer S21 XP 50 % + Antminer S21 50 %"``.

    Parameters
    ----------
    mix
        ``(model, share)`` pairs [-, pu].
    """
    return " + ".join(f"{model} {share * 100:g} %" for model, share in mix)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _check_powers(power_mw: Sequence[float]) -> list[float]:
    if isinstance(power_mw, str) or not isinstance(power_mw, Sequence) or len(power_mw) == 0:
        raise InputError("power_mw", power_mw, "a non-empty list of site powers [MW]")
    out = []
    for value in power_mw:
        x = _number(value)
        if x is None or not 0.0 < x <= MAX_SITE_POWER_MW:
            raise InputError("power_mw", value, f"a number in (0, {MAX_SITE_POWER_MW:g}] [MW]")
        out.append(x)
    return out


def _check_tariffs(tariffs: Sequence[float], unit: str) -> list[float]:
    if unit not in _TARIFF_MAX:
        raise InputError("tariff_unit", unit, "'pkr_per_kwh' or 'usd_per_kwh'")
    if isinstance(tariffs, str) or not isinstance(tariffs, Sequence) or len(tariffs) == 0:
        raise InputError("tariffs", tariffs, f"a non-empty list of tariffs [{unit}]")
    top = _TARIFF_MAX[unit]
    out = []
    for value in tariffs:
        x = _number(value)
        if x is None or not 0.0 <= x <= top:
            hint = ""
            if x is not None and x > top:
                hint = (
                    " (that looks like PKR/MWh)"
                    if unit == "pkr_per_kwh"
                    else " (that looks like USD/MWh or cents/kWh)"
                )
            raise InputError(
                "tariffs", value, f"a tariff in [0, {top:g}] [{_TARIFF_UNIT_TEXT[unit]}]{hint}"
            )
        out.append(x)
    return out


def _check_mixes(
    asic_mixes: Sequence[Sequence[tuple[str, float]]] | None,
) -> list[list[tuple[str, float]]] | None:
    if asic_mixes is None:
        return None
    if isinstance(asic_mixes, str) or not isinstance(asic_mixes, Sequence) or not asic_mixes:
        raise InputError("asic_mixes", asic_mixes, "None or a non-empty list of ASIC mixes")
    out = []
    for k, mix in enumerate(asic_mixes):
        field = f"asic_mixes[{k}]"
        if isinstance(mix, str) or not isinstance(mix, Sequence) or not mix:
            raise InputError(field, mix, "a non-empty list of (model, share) pairs")
        pairs: list[tuple[str, float]] = []
        for item in mix:
            if (
                isinstance(item, str)
                or not isinstance(item, Sequence)
                or len(item) != 2
                or not isinstance(item[0], str)
            ):
                raise InputError(field, item, "(model, share) pairs")
            model, share = item[0], _number(item[1])
            if share is None or not 0.0 < share <= 1.0:
                raise InputError(f"{field}.share", item[1], "a share in (0, 1] [pu]")
            try:
                asic_spec(model)
            except DataError as exc:
                raise InputError(f"{field}.model", model, exc.expected) from None
            pairs.append((model, share))
        total = sum(s for _, s in pairs)
        if abs(total - 1.0) > 1e-6:
            raise InputError(f"{field}.share", total, "shares summing to 1 [pu]")
        out.append(pairs)
    return out


def _design(
    scenario: Scenario,
    power_mw: float,
    tariff: float,
    unit: str,
    mix: list[tuple[str, float]] | None,
) -> Scenario:
    data = scenario.model_dump()
    data["site"]["power_mw"] = power_mw
    data["tariff"]["kind"] = "flat"
    data["tariff"]["pkr_per_kwh"] = tariff if unit == "pkr_per_kwh" else None
    data["tariff"]["usd_per_kwh"] = tariff if unit == "usd_per_kwh" else None
    if mix is not None:
        data["fleet"]["mix"] = [{"model": m, "share": s} for m, s in mix]
    return parse_scenario(data)


def sweep(
    scenario: Scenario,
    drivers: DriverParams | None = None,
    *,
    power_mw: Sequence[float],
    tariffs: Sequence[float],
    tariff_unit: TariffUnit = "pkr_per_kwh",
    asic_mixes: Sequence[Sequence[tuple[str, float]]] | None = None,
    paths: int = 100,
    seed: int = DEFAULT_SEED,
    chunk_paths: int = 50,
    scheduler: str | Any | None = "threads",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Monte Carlo risk of every design on a grid of power, tariff and ASIC mix.

    Each design is the scenario with ``site.power_mw``, a flat tariff
    (``tariff.pkr_per_kwh`` or ``tariff.usd_per_kwh``; a marginal-cost tariff
    is replaced) and, when given, ``fleet.mix`` replaced. Every design's Monte
    Carlo uses the same seed (common random numbers). Cost:
    ``len(power_mw) × len(tariffs) × len(asic_mixes)`` designs of ``paths``
    paths plus one deterministic run each.

    Parameters
    ----------
    scenario
        Base scenario.
    drivers
        Driver parameters (default :class:`DriverParams`).
    power_mw
        Site powers [MW], each in (0, 100,000].
    tariffs
        Flat tariffs [``tariff_unit``].
    tariff_unit
        ``"pkr_per_kwh"`` (0 to 200) or ``"usd_per_kwh"`` (0 to 1).
    asic_mixes
        ASIC mixes, each a list of ``(catalogue model, share)`` pairs with
        shares summing to 1; None keeps the scenario's mix.
    paths
        Monte Carlo paths per design (>= 1).
    seed
        Root seed of every design.
    chunk_paths
        Paths computed at once within a design; bounds memory.
    scheduler
        ``"threads"`` (default), ``"synchronous"``, ``"processes"``, a
        ``tcp://host:port`` address or a ``distributed.Client``.
    progress
        Called with (designs done, designs).

    Returns
    -------
    pandas.DataFrame
        One row per design (mix, then power, then tariff, in the order given):
        ``power_mw``, ``tariff_pkr_per_kwh`` or ``tariff_usd_per_kwh``,
        ``asic_mix`` (label), then :data:`SWEEP_COLUMNS` (NPV percentiles,
        mean, ``var_usd`` and ``cvar_usd`` at 95 % [USD]; ``p_loss`` [-];
        medians of BTC mined [BTC], cost per BTC [USD/BTC] and emissions
        [tCO2]; the deterministic NPV [USD]), then ``paths`` and ``seed``.
        ``attrs`` holds ``paths``, ``seed``, ``tariff_unit``, ``scenario``,
        ``drivers`` (the resolved :class:`DriverParams`) and ``wall_s``.

    Raises
    ------
    InputError
        Empty or out-of-range ``power_mw`` or ``tariffs``, unknown
        ``tariff_unit``, a malformed mix or unknown ASIC model, bad ``paths``
        or ``seed``; the message names the field.
    """
    powers = _check_powers(power_mw)
    prices = _check_tariffs(tariffs, tariff_unit)
    mixes = _check_mixes(asic_mixes)
    if isinstance(paths, bool) or not isinstance(paths, int) or paths < 1:
        raise InputError("paths", paths, "an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("seed", seed, "an integer >= 0")
    t0 = time.perf_counter()
    base_drivers = (drivers or DriverParams()).resolved()
    own_label = mix_label([(m.model, m.share) for m in scenario.fleet.mix])
    mix_options: list[tuple[str, list[tuple[str, float]] | None]] = (
        [(own_label, None)] if mixes is None else [(mix_label(m), m) for m in mixes]
    )
    tariff_column = f"tariff_{tariff_unit}"
    keys: list[dict[str, Any]] = []
    designs: list[tuple[Scenario, DriverParams]] = []
    for label, mix in mix_options:
        for mw in powers:
            for tariff in prices:
                keys.append({"power_mw": mw, tariff_column: tariff, "asic_mix": label})
                designs.append((_design(scenario, mw, tariff, tariff_unit, mix), base_drivers))
    results = run_designs(
        designs,
        paths=paths,
        seed=seed,
        deterministic=True,
        chunk_paths=chunk_paths,
        scheduler=scheduler,
        progress=progress,
    )
    rows = []
    for key, result in zip(keys, results, strict=True):
        s = result.summary(alpha=0.05)
        row = dict(key)
        for column in SWEEP_COLUMNS:
            row[column] = float(s[column])
        row["paths"] = paths
        row["seed"] = seed
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(
        {
            "paths": paths,
            "seed": seed,
            "tariff_unit": tariff_unit,
            "scenario": scenario.scenario.name,
            "drivers": base_drivers,
            "wall_s": time.perf_counter() - t0,
        }
    )
    return table
