"""The latent-capability model (bayescale.capabilities): recovery, thresholds, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.capabilities import pinned_capability_fit
from bayescale.fit import DiagnosticWarning

W_TRUE = np.array([1.5, 2.5, 0.8, 1.2])
C_TRUE = np.array([0.3, -1.0, 0.5, -0.5])
CHANCE = np.array([0.25, 0.0, 0.5, 0.0])


def simulate(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """5 families x 8 models, family offsets, 4 benchmarks; returns scores and true means."""
    rng = np.random.default_rng(seed)
    fam = np.repeat(list("abcde"), 8)
    logc = rng.uniform(20, 24, len(fam))
    x = (logc - logc.mean()) / logc.std()
    offset = dict(zip("abcde", rng.normal(0, 0.5, 5), strict=True))
    s = np.array([offset[f] for f in fam]) + x + rng.normal(0, 0.2, len(fam))
    mean = CHANCE + (1 - CHANCE) / (1 + np.exp(-(C_TRUE + np.outer(s, W_TRUE))))
    y = np.clip(mean + rng.normal(0, 0.02, mean.shape), 0, 1)
    t = pd.DataFrame(y, columns=[f"b{j}" for j in range(4)])
    t.insert(0, "family", fam)
    t.insert(0, "C", 10**logc)
    return t, mean


@pytest.fixture(scope="module")
def simulated_fit():
    t, mean = simulate()
    held = t["C"] > np.quantile(t["C"], 0.8)
    masked = t.copy()
    masked.loc[held, ["b0", "b1", "b2", "b3"]] = np.nan
    chance = {"b0": 0.25, "b2": 0.5}
    f = bs.fit_capabilities(masked, ["b0", "b1", "b2", "b3"], chance=chance, draws=400,
                            tune=400, chains=2, random_seed=1)  # fmt: skip
    return f, t, mean, held


def test_held_out_scores_are_predicted_within_their_intervals(simulated_fit):
    f, t, mean, held = simulated_fit
    p = f.predict(ci_prob=0.9)
    assert len(p) == held.sum() * 4 and not p["in_fit"].any()
    rows = p["model"].astype(int).to_numpy()
    cols = p["benchmark"].str[1].astype(int).to_numpy()
    truth = mean[rows, cols]
    observed = t.to_numpy()[rows, 2 + cols].astype(float)
    # against the simulated truth: small errors, and the 90% intervals hold the noisy scores
    assert np.median(np.abs(p["expected"].to_numpy() - truth)) < 0.05
    inside = (observed >= p["lo"].to_numpy()) & (observed <= p["hi"].to_numpy())
    assert inside.mean() >= 0.75


def test_loadings_and_noise_are_recovered(simulated_fit):
    f, *_ = simulated_fit
    w = f.posterior["loadings"].isel(capability=0).to_numpy().reshape(-1, 4)
    lo, hi = np.quantile(w, [0.025, 0.975], axis=0)
    # loadings are identified up to the capability's scale, set by the unit slope on
    # standardised log compute in the simulation and in the model alike
    assert np.all((lo < W_TRUE) & (W_TRUE < hi)), (lo, hi)
    sigma = f.posterior["sigma"].median(("chain", "draw")).to_numpy()
    assert np.all((sigma > 0.01) & (sigma < 0.04))
    assert f.summary().loc["b0", "chance"] == 0.25


def test_threshold_is_where_half_the_draws_reach_the_level():
    f = pinned_capability_fit()
    th = f.thresholds(level=0.6, ci_prob=0.8)
    # brute force: the expected score of a new family on the population trend at the median
    # threshold, per draw; half the draws reach 0.6 there (each draw's curve is monotone)
    c_med = th.loc["b0", "median"]
    x = (np.log10(c_med) - f.x_mean) / f.x_sd
    w = f.posterior["loadings"].isel(capability=0).sel(benchmark="b0").to_numpy().ravel()
    c = f.posterior["intercept"].sel(benchmark="b0").to_numpy().ravel()
    mean = 1 / (1 + np.exp(-(c + w * x)))
    assert np.mean(mean >= 0.6) == pytest.approx(0.5, abs=0.01)
    assert th.loc["b0", "lo"] < c_med < th.loc["b0", "hi"]
    assert "FLOPs" in th.loc["b0", "text"]


def test_bad_input_names_the_culprit():
    t, _ = simulate()
    cols = ["b0", "b1", "b2", "b3"]
    with pytest.raises(ValueError, match="'bx'"):
        bs.fit_capabilities(t, ["b0", "bx"])
    bad = t.copy()
    bad.loc[3, "b1"] = 57.0
    with pytest.raises(ValueError, match=r"'b1'.*rows \[3\]"):
        bs.fit_capabilities(bad, cols)
    with pytest.raises(ValueError, match="n_capabilities"):
        bs.fit_capabilities(t, cols, n_capabilities=4)
    with pytest.raises(ValueError, match="chance names"):
        bs.fit_capabilities(t, cols, chance={"b9": 0.25})
    neg = t.copy()
    neg.loc[2, "C"] = -1.0
    with pytest.raises(ValueError, match=r"'C'.*rows \[2\]"):
        bs.fit_capabilities(neg, cols)
    with pytest.raises(ValueError, match="ci_prob"):
        pinned_capability_fit().predict(ci_prob=1.5)


def test_a_fit_that_did_not_converge_says_so():
    t, _ = simulate()
    with pytest.warns(DiagnosticWarning, match="latent-capability fit"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="pymc")
            bs.fit_capabilities(t, ["b0", "b1", "b2", "b3"], draws=20, tune=20, chains=2,
                                random_seed=0)  # fmt: skip


@pytest.mark.parametrize("k", [1, 3])
def test_one_expression_for_the_model_and_the_draws(k):
    # the PyMC model and the numpy draws share _expected_scores: PyTensor on one point must
    # equal numpy on the same point
    import pytensor.tensor as pt

    from bayescale.capabilities import _expected_scores, _ops

    rng = np.random.default_rng(k)
    n, j, n_fam = 7, 5, 3
    p = {"tau_a": rng.uniform(0.1, 1, k), "tau_b": rng.uniform(0.1, 1, k),
         "sigma_model": np.float64(0.3), "z_a": rng.normal(size=(n_fam, k)),
         "z_b": rng.normal(size=(n_fam, k)), "z_e": rng.normal(size=(n, k)),
         "w_first": rng.uniform(0.5, 2, j), "intercept": rng.normal(size=j)}  # fmt: skip
    for q in range(1, k):
        p[f"w_diag_{q}"] = np.float64(rng.uniform(0.5, 2))
        p[f"w_below_{q}"] = rng.normal(size=j - q - 1)
    x, fam = rng.normal(size=n), rng.integers(0, n_fam, n)
    chance = np.array([0.25, 0.0, 0.5, 0.0, 0.25])
    s_np, w_np, m_np = _expected_scores(_ops("numpy"), p, x, fam, chance, k)
    symbolic = {key: pt.as_tensor_variable(v) for key, v in p.items()}
    s_pt, w_pt, m_pt = _expected_scores(_ops("pytensor"), symbolic, x, fam, chance, k)
    np.testing.assert_allclose(m_pt.eval(), m_np, rtol=1e-12)
    np.testing.assert_allclose(w_pt.eval(), w_np, rtol=1e-12)
    np.testing.assert_allclose(s_pt.eval(), s_np, rtol=1e-12)
    # and against the formula written out
    w = np.zeros((j, k))
    w[:, 0] = p["w_first"]
    for q in range(1, k):
        w[q, q], w[q + 1 :, q] = p[f"w_diag_{q}"], p[f"w_below_{q}"]
    slope = np.r_[1.0, np.zeros(k - 1)]
    sd = np.r_[0.3, np.ones(k - 1)]
    cap = (p["z_a"] * p["tau_a"])[fam] + (slope + p["z_b"] * p["tau_b"])[fam] * x[:, None]
    cap = cap + p["z_e"] * sd
    expected = chance + (1 - chance) / (1 + np.exp(-(p["intercept"] + cap @ w.T)))
    np.testing.assert_allclose(m_np, expected, rtol=1e-12)
    np.testing.assert_allclose(s_np, cap, rtol=1e-12)
