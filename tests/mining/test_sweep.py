"""Design sweep on the real model (El Salvador example, few paths)."""

from pathlib import Path

import numpy as np
import pytest

from hashnation.errors import InputError
from hashnation.mining.drivers import DriverParams
from hashnation.mining.scenario import Scenario, load_scenario
from hashnation.mining.sweep import SWEEP_COLUMNS, mix_label, sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = 5


@pytest.fixture(scope="module")
def salvador() -> Scenario:
    return load_scenario(EXAMPLES / "el-salvador-geothermal.toml")


@pytest.fixture(scope="module")
def table(salvador: Scenario):
    return sweep(
        salvador,
        power_mw=[10.0, 20.0],
        tariffs=[0.02, 0.06],
        tariff_unit="usd_per_kwh",
        paths=8,
        seed=SEED,
        scheduler="synchronous",
    )


def test_one_row_per_design(table) -> None:
    assert len(table) == 4
    assert list(table.columns) == [
        "power_mw",
        "tariff_usd_per_kwh",
        "asic_mix",
        *SWEEP_COLUMNS,
        "paths",
        "seed",
    ]
    assert list(table["power_mw"]) == [10.0, 10.0, 20.0, 20.0]
    assert list(table["tariff_usd_per_kwh"]) == [0.02, 0.06, 0.02, 0.06]
    assert set(table["asic_mix"]) == {"Antminer S21 Pro 100 %"}
    assert (table["seed"] == SEED).all() and (table["paths"] == 8).all()
    assert table.attrs["seed"] == SEED


def test_cheaper_power_raises_npv_and_risk_is_a_probability(table) -> None:
    for _, rows in table.groupby("power_mw"):
        cheap, dear = rows.iloc[0], rows.iloc[1]
        assert cheap["tariff_usd_per_kwh"] < dear["tariff_usd_per_kwh"]
        for column in ("npv_p50_usd", "npv_mean_usd", "deterministic_npv_usd"):
            assert cheap[column] > dear[column]
    assert table["p_loss"].between(0.0, 1.0).all()
    assert (table["npv_p5_usd"] <= table["npv_p50_usd"]).all()
    assert (table["npv_p50_usd"] <= table["npv_p95_usd"]).all()
    assert np.isfinite(table[list(SWEEP_COLUMNS)].to_numpy()).all()
    # Twice the site: about twice the BTC.
    btc = table.set_index(["power_mw", "tariff_usd_per_kwh"])["btc_mined_p50"]
    assert btc.loc[(20.0, 0.02)] == pytest.approx(2 * btc.loc[(10.0, 0.02)], rel=0.05)


def test_asic_mixes_and_progress(salvador: Scenario) -> None:
    mixes = [[("Antminer S21 Pro", 1.0)], [("Antminer S21", 0.5), ("Whatsminer M66S+", 0.5)]]
    calls: list[tuple[int, int]] = []
    t = sweep(
        salvador,
        DriverParams.deterministic(),
        power_mw=[20.0],
        tariffs=[14.0],
        tariff_unit="pkr_per_kwh",
        asic_mixes=mixes,
        paths=2,
        seed=SEED,
        scheduler="synchronous",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert list(t["asic_mix"]) == [mix_label(m) for m in mixes]
    assert list(t["asic_mix"])[1] == "Antminer S21 50 % + Whatsminer M66S+ 50 %"
    assert "tariff_pkr_per_kwh" in t.columns
    assert calls == [(1, 2), (2, 2)]
    # With every driver off, each path is the deterministic run.
    np.testing.assert_allclose(t["npv_p50_usd"], t["deterministic_npv_usd"], rtol=1e-9)
    assert (t["p_loss"].isin([0.0, 1.0])).all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"power_mw": []}, "power_mw"),
        ({"power_mw": [0.0]}, "power_mw"),
        ({"power_mw": [-5.0]}, "power_mw"),
        ({"power_mw": [float("nan")]}, "power_mw"),
        ({"tariffs": []}, "tariffs"),
        ({"tariffs": [-0.01]}, "tariffs"),
        ({"tariffs": [50.0]}, "tariffs"),
        ({"tariff_unit": "usd_per_mwh"}, "tariff_unit"),
        ({"asic_mixes": []}, "asic_mixes"),
        ({"asic_mixes": [[("No Such Miner", 1.0)]]}, r"asic_mixes\[0\]\.model"),
        ({"asic_mixes": [[("Antminer S21", 0.5)]]}, r"asic_mixes\[0\]\.share"),
        ({"paths": 0}, "paths"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_inputs_name_the_field(salvador: Scenario, kwargs: dict, field: str) -> None:
    args = {"power_mw": [20.0], "tariffs": [0.05], "tariff_unit": "usd_per_kwh", "paths": 2}
    args.update(kwargs)
    with pytest.raises(InputError, match=rf"^{field}: got"):
        sweep(salvador, scheduler="synchronous", **args)


def test_pkr_tariff_above_range_hints_at_the_unit(salvador: Scenario) -> None:
    with pytest.raises(InputError, match=r"tariffs: got 23000.*PKR/MWh"):
        sweep(salvador, power_mw=[20.0], tariffs=[23000.0], tariff_unit="pkr_per_kwh")
