"""The extrapolation scatter (structure.py, off by default): a per-run independent term beyond
the fitted range, its prior median from the pseudo-forecast's spread, and every place it flows
through (prior-only draws, predictive draws, holdout densities, save/load, SBC)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.analysis import _structure_terms
from bayescale.holdout import _structure_shift
from bayescale.pseudo_forecast import PseudoForecast
from bayescale.structure import SCATTER_SCALE, SCATTER_SPREAD, Structure

FAST = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False, "warn": False}
TRUTH = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.28}
TOP_BUDGET = 1e22
SPREAD = 0.03  # the top budget's runs sit ±SPREAD around the law (no shared miss)


def runs_scattered_at_the_top(seed: int = 0) -> pd.DataFrame:
    """Small runs (C ≤ 2.4e20) on the law, and one isoFLOP budget at 1e22 whose 4 runs sit
    +s, −s, +s, −s around it (median miss 0, MAD s); Normal(0, 0.002) noise."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(5e7, 1e9, 8), 4)
    d = n * np.tile(np.geomspace(5, 40, 4), 8)
    top_n = np.array([2e9, 3e9, 4e9, 5e9])
    n, d = np.concatenate([n, top_n]), np.concatenate([d, TOP_BUDGET / (6 * top_n)])
    log_loss = np.log(bs.get_law("chinchilla").evaluate(TRUTH, N=n, D=d))
    log_loss[-4:] += SPREAD * np.array([1.0, -1.0, 1.0, -1.0])
    return pd.DataFrame({"N": n, "D": d, "loss": np.exp(log_loss + rng.normal(0, 0.002, len(n)))})


@pytest.fixture(scope="module")
def scatter_fit():
    return bs.fit("chinchilla", runs_scattered_at_the_top(), random_seed=0, scatter=True, **FAST)


def test_scatter_is_the_robust_spread_beyond_noise_without_the_bias():
    e = np.array([0.01, 0.05, 0.02, 0.04, 0.03])  # median 0.03, |e - 0.03|: MAD 0.01
    p = PseudoForecast.from_errors(e, distance=0.5, sigma=0.004)
    assert p.scatter == pytest.approx(np.sqrt(((1.4826 * 0.01) ** 2 - 0.004**2) / 0.5))
    shifted = PseudoForecast.from_errors(e + 0.1, distance=0.5, sigma=0.004)
    assert shifted.scatter == pytest.approx(p.scatter)  # a shared bias is the drift's
    assert shifted.drift > p.drift
    assert PseudoForecast.from_errors(e, distance=0.5, sigma=0.1).scatter == 0.0
    assert PseudoForecast.from_dict(p.to_dict()) == p
    old = {k: v for k, v in p.to_dict().items() if k != "scatter"}  # saved before stop 20
    assert np.isnan(PseudoForecast.from_dict(old).scatter)


def test_off_by_default_and_old_structures_have_none():
    runs = runs_scattered_at_the_top()
    s, _ = bs.structure.resolve_structure(None, True, runs, ("N", "D"), ("N", "D"))
    assert not s.scatter and "scatter" not in s.default_priors()
    old = {"groupings": [], "axes": ["C"], "ranges": {"C": [18.0, 21.0]}, "drift": True}
    assert not Structure.from_dict(old).scatter
    on = Structure(axes=("C",), ranges={"C": (18.0, 21.0)}, drift=True, scatter=True)
    assert Structure.from_dict(on.to_dict()) == on
    with pytest.raises(TypeError, match="scatter must be True or False"):
        bs.fit("chinchilla", runs, scatter="yes", **FAST)


def test_prior_only_draws_add_the_scatter_on_its_own_stream():
    on = Structure(drift=True, scatter=True, scatter_scale=0.01)
    off = Structure(drift=True)
    a = on.prior_only_draws(on.default_priors(), (4, 5000), 7)
    b = off.prior_only_draws(off.default_priors(), (4, 5000), 7)
    np.testing.assert_array_equal(a["drift"], b["drift"])  # the drift's draws unchanged
    log = np.log(a["scatter"])
    assert np.median(a["scatter"]) == pytest.approx(0.01, rel=0.03)
    assert log.std() == pytest.approx(SCATTER_SPREAD, rel=0.03)
    assert abs(np.corrcoef(log.ravel(), np.log(a["drift"]).ravel())[0, 1]) < 0.03


def test_a_fit_sets_the_scatter_median_from_its_top_budget(scatter_fit):
    f = scatter_fit
    pf = f.structure.pseudo
    assert f.structure.scatter and pf.n_held == 4
    # the law fitted below the top budget predicts it to ≈ the noise: errors ≈ ±SPREAD
    want = np.sqrt(((1.4826 * SPREAD) ** 2 - pf.sigma**2) / pf.distance)
    assert pf.scatter == pytest.approx(want, rel=0.15)
    assert f.structure.scatter_scale == max(SCATTER_SCALE, pf.scatter)
    assert f.priors["scatter"].params["mu"] == pytest.approx(np.log(f.structure.scatter_scale))
    assert f.structure.drift_scale == bs.structure.DRIFT_SCALE  # no shared miss
    assert "scatter" in f.posterior and "extrapolation scatter" in f.structure.describe()


def test_predictive_scatter_is_independent_per_point_and_the_drift_shared(scatter_fit):
    f = scatter_fit
    n_points = 2000
    inputs = {"N": np.full(n_points, 3e10), "D": np.full(n_points, 6e11)}
    terms = _structure_terms(f, inputs, None, np.random.default_rng(0))
    terms = terms.reshape(-1, n_points)
    factor = f.structure.drift_factor(inputs)[0]
    assert factor > 0.5
    scatter = f.posterior["scatter"].to_numpy().reshape(-1)
    # per draw, the spread across points is the scatter's, the mean the shared drift's
    ratio = terms.std(axis=1) / (scatter * factor)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.01)
    assert np.all(np.abs(ratio - 1) < 0.08)  # 2000 points: sd of the ratio ≈ 0.016
    drift = f.posterior["drift"].to_numpy().reshape(-1)
    zeta = terms.mean(axis=1) / (drift * factor)
    assert np.std(zeta) == pytest.approx(1.0, abs=0.12)
    inside = _structure_terms(f, {"N": [1e8], "D": [2e9]}, None, np.random.default_rng(0))
    assert np.all(inside == 0.0)


def test_holdout_adds_the_scatter_variance(scatter_fit):
    f = scatter_fit
    rows = pd.DataFrame({"N": [3e10, 1e8], "D": [6e11, 2e9]})
    mean, sd = _structure_shift(f, rows)
    d = f.structure.drift_factor({"N": rows["N"].to_numpy(), "D": rows["D"].to_numpy()})
    drift = f.posterior["drift"].to_numpy().reshape(-1, 1)
    scatter = f.posterior["scatter"].to_numpy().reshape(-1, 1)
    np.testing.assert_allclose(sd, np.sqrt(drift**2 + scatter**2) * d[None, :], rtol=1e-12)
    assert np.all(mean == 0.0)


def test_saved_fit_keeps_the_scatter(scatter_fit, tmp_path):
    f = scatter_fit
    g = bs.Fit.load(f.save(tmp_path / "fit.nc"))
    assert g.structure == f.structure and g.priors["scatter"] == f.priors["scatter"]
    kw = {"N": [2e10, 3e10], "D": [4e11, 5e11], "kind": "predictive", "random_seed": 3}
    np.testing.assert_array_equal(bs.predict_loss(f, **kw), bs.predict_loss(g, **kw))


def test_sbc_ranks_the_scatter():
    """SBC runs with the scatter: prior-only, its true value moved to the prior its fit used
    (``_moved_drift``, tested in test_pseudo_forecast.py), so its ranks are exact."""
    design = runs_scattered_at_the_top().drop(columns="loss")
    res = bs.testing.sbc(
        "chinchilla", design, n_sims=2, draws=100, tune=100, chains=2, random_seed=1,
        progressbar=False, scatter=True,
    )  # fmt: skip
    ranks = res.ranks["scatter"]
    assert ranks.notna().all() and ranks.between(0, res.n_thin).all()
