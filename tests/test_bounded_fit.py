"""The shared bounded maximum-likelihood step: interior optima found, bounds reported."""

from __future__ import annotations

import numpy as np

from crmroi.improve.bounded_fit import finite_or_unusable, minimise_within_bounds


def test_interior_optimum_of_a_quadratic_is_found() -> None:
    target = np.array([0.7, -1.3])
    fit = minimise_within_bounds(
        lambda theta: float(np.sum((theta - target) ** 2)), [(-5.0, 5.0)] * 2, ("a", "b")
    )
    assert np.allclose(fit.theta, target, atol=1e-4)
    assert fit.finite and fit.converged
    assert fit.at_bound == ()


def test_optimum_beyond_a_bound_is_reported_on_that_side() -> None:
    # The minimum lies at a = +9 (outside [-5, 5]) and b = -9: both end on a bound.
    fit = minimise_within_bounds(
        lambda theta: float((theta[0] - 9) ** 2 + (theta[1] + 9) ** 2),
        [(-5.0, 5.0)] * 2,
        ("a", "b"),
    )
    assert fit.at_upper == ("a",)
    assert fit.at_lower == ("b",)
    assert fit.at_bound == ("a", "b")


def test_objective_without_a_finite_value_is_flagged() -> None:
    fit = minimise_within_bounds(
        lambda theta: finite_or_unusable(float("nan")), [(-1.0, 1.0)], ("a",)
    )
    assert not fit.finite
