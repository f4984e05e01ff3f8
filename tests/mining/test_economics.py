"""Cash-flow arithmetic."""

import numpy as np
import pytest

from hashnation.errors import InputError
from hashnation.mining.economics import (
    CostParams,
    irr,
    npv,
    payback_label,
    payback_years,
    replacement_capex_usd,
)


def test_npv_by_hand() -> None:
    # -100 + 60/1.1 + 60/1.21 = -100 + 54.5454 + 49.5868 = 4.1322
    assert npv([-100.0, 60.0, 60.0], 0.10) == pytest.approx(4.132231, rel=1e-6)


def test_irr_zeroes_npv() -> None:
    rate = irr([-100.0, 60.0, 60.0])
    assert rate is not None
    # Solve 100 (1+r)^2 = 60 (1+r) + 60 by the quadratic formula.
    x = (60 + np.sqrt(60**2 + 4 * 100 * 60)) / (2 * 100)
    assert rate == pytest.approx(x - 1, abs=1e-9)
    assert irr([-100.0, -5.0, -5.0]) is None


def test_payback() -> None:
    assert payback_years([-100.0, 40.0, 40.0, 40.0]) == pytest.approx(2.5)
    assert payback_years([-100.0, 10.0, 10.0]) is None
    assert payback_label(None) == "does not pay back"
    assert payback_label(2.5) == "2.5 years"


def test_replacements_fall_at_cycle_ends_but_not_the_last_year() -> None:
    out = replacement_capex_usd(1000.0, 10, 4, 0.1)
    expected = np.zeros(10)
    expected[3] = 1000 * 0.9**4
    expected[7] = 1000 * 0.9**8
    np.testing.assert_allclose(out, expected)
    assert replacement_capex_usd(1000.0, 10, 5, 0.0)[9] == 0.0


def test_cost_params_validation() -> None:
    with pytest.raises(InputError, match=r"economics\.discount_rate_pu.*12"):
        CostParams(discount_rate_pu=12.0)
    with pytest.raises(InputError, match="asic_price_usd_per_th"):
        CostParams(asic_price_usd_per_th=-1.0)
