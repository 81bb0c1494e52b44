"""The demo's calibration designs: who goes live when, how strongly, and what truth.json says."""

from __future__ import annotations

import numpy as np
import pytest

from crmroi.demo import generate_company
from crmroi.demo.company import DESIGNS, GO_LIVE_MONTH, RAMP_MONTHS, make_world


def test_ramp_dose_grows_linearly_to_full_size() -> None:
    world = make_world(1, 0.1, DESIGNS["ramp"])
    team = np.zeros(9, dtype=np.int64)
    months = GO_LIVE_MONTH[0] + np.arange(-1, 8)
    dose = world.dose(team, world.month_us[months] + 1)
    expected = [0.0] + [min(1.0, (k + 1) / RAMP_MONTHS) for k in range(8)]
    assert dose == pytest.approx(expected)
    step = make_world(1, 0.1, DESIGNS["phased"]).dose(team, world.month_us[months] + 1)
    assert step == pytest.approx([0.0] + [1.0] * 8)


@pytest.mark.parametrize("design", ["placebo", "single"])
def test_truth_says_the_exact_answer_of_each_design(design: str) -> None:
    company = generate_company(scale=0.1, seed=3, design=design)
    truth = company.truth
    assert truth["design"]["name"] == design
    assert len(truth["market"]["by_month"]) == 36
    if design == "placebo":
        # no effect at all: designed effects are zero and the realised ones too
        for name, effect in truth["effects"].items():
            assert next(iter(effect.values())) == 0.0, name
    else:
        assert len(set(truth["go_live_by_team"].values())) == 1
        assert truth["effects"]["win_rate"] == {"change_abs": 0.05}
