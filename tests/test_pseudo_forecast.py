"""The drift's data-adaptive prior median: the law's in-sample pseudo-forecast (issue 10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.pseudo_forecast import PseudoForecast
from bayescale.structure import (
    DRIFT_SCALE,
    DRIFT_SPREAD,
    PSEUDO_MIN_HELD,
    Structure,
)

FAST = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False, "warn": False}
TRUTH = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.28}
TOP_BUDGET = 1e22
MISS = 0.04  # how far (in log loss) the law misses its top budget


def runs_with_a_top_budget(miss: float, seed: int = 0) -> pd.DataFrame:
    """A grid of small runs (C ≤ 2.4e20) and one isoFLOP budget at 1e22 whose 4 runs sit
    ``miss`` above the law in log loss; Normal(0, 0.002) noise."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(5e7, 1e9, 8), 4)
    d = n * np.tile(np.geomspace(5, 40, 4), 8)
    top_n = np.array([2e9, 3e9, 4e9, 5e9])
    n, d = np.concatenate([n, top_n]), np.concatenate([d, TOP_BUDGET / (6 * top_n)])
    log_loss = np.log(bs.get_law("chinchilla").evaluate(TRUTH, N=n, D=d))
    log_loss[-4:] += miss
    return pd.DataFrame({"N": n, "D": d, "loss": np.exp(log_loss + rng.normal(0, 0.002, len(n)))})


def mean_decades_beyond(runs: pd.DataFrame, held: np.ndarray) -> float:
    """Independent reference for the held runs' mean distance: the largest of the decades
    beyond the other runs' largest C, N and D (none of them is below the others' range)."""
    logs = {
        "C": np.log10(6 * runs["N"] * runs["D"]).to_numpy(),
        "N": np.log10(runs["N"]).to_numpy(),
        "D": np.log10(runs["D"]).to_numpy(),
    }
    beyond = [np.maximum(v[held] - v[~held].max(), 0) for v in logs.values()]
    return float(np.max(beyond, axis=0).mean())


@pytest.fixture(scope="module")
def missed_fit():
    return bs.fit("chinchilla", runs_with_a_top_budget(MISS), random_seed=0, **FAST)


def test_a_law_that_misses_its_top_budget_gets_a_wider_drift(missed_fit):
    f = missed_fit
    runs = f.data
    held = np.isclose(6 * runs["N"] * runs["D"], TOP_BUDGET)
    assert f.structure.pseudo.n_held == held.sum() == 4
    d_bar = mean_decades_beyond(runs, held)
    assert f.structure.pseudo.distance == pytest.approx(d_bar, rel=1e-9)
    # the rest is fitted by the true law, so the slice's error is the planted miss
    assert f.structure.pseudo.error == pytest.approx(MISS, abs=0.004)
    expected = MISS / np.sqrt(d_bar)  # ≈ 0.031 per √decade, above the default 0.02
    assert f.structure.drift_scale == pytest.approx(expected, rel=0.1)
    # the drift's prior is LogNormal(log scale, 0.5) and its draws follow it
    assert f.priors["drift"] == bs.Prior(
        "LogNormal", mu=float(np.log(f.structure.drift_scale)), sigma=DRIFT_SPREAD
    )
    draws = f.posterior["drift"].to_numpy()
    assert np.median(draws) == pytest.approx(f.structure.drift_scale, rel=0.1)


def test_a_law_that_extrapolates_well_keeps_the_default():
    f = bs.fit("chinchilla", runs_with_a_top_budget(0.0), random_seed=0, **FAST)
    assert abs(f.structure.pseudo.error) < 0.004
    assert f.structure.drift_scale == DRIFT_SCALE
    assert f.priors["drift"].params["mu"] == pytest.approx(np.log(DRIFT_SCALE))


def test_a_given_drift_prior_is_kept(missed_fit):
    prior = bs.Prior("LogNormal", mu=float(np.log(0.01)), sigma=0.3)
    f = bs.fit("chinchilla", missed_fit.data, priors={"drift": prior}, random_seed=0, **FAST)
    assert f.priors["drift"] == prior and f.structure.pseudo is None


def test_fixed_law_parameters_keep_their_values_in_the_mode_fit(missed_fit):
    # β held at its true value: the pseudo-forecast still finds the planted miss
    priors = {"beta": bs.Prior.fixed(TRUTH["beta"])}
    f = bs.fit("chinchilla", missed_fit.data, priors=priors, random_seed=0, **FAST)
    assert f.structure.pseudo.error == pytest.approx(MISS, abs=0.004)
    assert f.structure.drift_scale == pytest.approx(missed_fit.structure.drift_scale, rel=0.1)


def test_saved_fits_round_trip_and_old_files_keep_the_default(missed_fit, tmp_path):
    f = missed_fit
    g = bs.Fit.load(f.save(tmp_path / "fit.nc"))
    assert g.structure == f.structure and g.priors["drift"] == f.priors["drift"]
    kw = {"N": [2e10], "D": [4e11], "kind": "predictive", "random_seed": 3}
    np.testing.assert_array_equal(bs.predict_loss(f, **kw), bs.predict_loss(g, **kw))
    old = {"groupings": [], "axes": ["C"], "ranges": {"C": [18.0, 21.0]}, "drift": True}
    s = Structure.from_dict(old | {"drift_power": 0.5})
    assert s.drift_scale == DRIFT_SCALE and s.pseudo is None
    assert s.default_priors()["drift"].params["mu"] == pytest.approx(np.log(0.02))


def line_mode_fit(c: np.ndarray, log_y: np.ndarray):
    """A least-squares line in log C as the mode fit, noise sd 0.001."""

    def mode_fit(mask):
        slope, icpt = np.polyfit(np.log(c[mask]), log_y[mask], 1)
        return (lambda C: icpt + slope * np.log(C)), 0.001

    return mode_fit


def test_too_few_held_runs_change_nothing():
    s = Structure(axes=("C",), ranges={"C": (18.0, 21.0)}, drift=True)
    assert PSEUDO_MIN_HELD == 3
    for n_runs, n_held in ((16, 2), (31, 3)):  # 0.2 and 0.1 decades apart
        c = np.logspace(18, 21, n_runs)
        log_y = 0.2 - 0.05 * np.log(c)
        log_y[-n_held:] += 0.05
        adapted = s.adapt_drift({"C": c}, log_y, line_mode_fit(c, log_y), n_free=4)
        if n_held < PSEUDO_MIN_HELD:
            assert adapted is s
        else:
            assert adapted.pseudo.n_held == n_held
            assert adapted.pseudo.error == pytest.approx(0.05, rel=1e-6)


def test_pseudo_forecast_subtracts_the_noise_of_the_mean():
    p = PseudoForecast.from_errors([0.01, 0.03], distance=0.25, sigma=0.02)
    # ē = 0.02, noise of the mean σ²/n = 0.0002: sqrt((0.0004 - 0.0002) / 0.25)
    assert p.drift == pytest.approx(np.sqrt(0.0008))
    assert PseudoForecast.from_errors([0.001], distance=1.0, sigma=0.01).drift == 0.0
    assert PseudoForecast.from_dict(p.to_dict()) == p


def test_sbc_moves_the_true_drift_to_the_prior_its_fit_used():
    from bayescale.sbc import _moved_drift

    rng = np.random.default_rng(0)
    simulated = bs.Prior("LogNormal", mu=float(np.log(0.02)), sigma=0.5)
    fitted = bs.Prior("LogNormal", mu=float(np.log(0.05)), sigma=0.5)
    x = np.exp(np.log(0.02) + 0.5 * rng.standard_normal(100000))
    y = _moved_drift(x, simulated, fitted)
    assert np.median(y) == pytest.approx(0.05, rel=0.01)
    assert np.log(y).std() == pytest.approx(0.5, rel=0.01)
    np.testing.assert_array_equal(np.argsort(x), np.argsort(y))  # ranks kept
    assert _moved_drift(x, simulated, simulated) is x
