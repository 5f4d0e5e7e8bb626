"""Hierarchical emergence: family offsets on the threshold (bs.fit(group=, pool=)), new-family
predictions, and held-out scoring (bayescale.holdout)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayescale as bs
from bayescale.likelihoods import SQUEEZE

#: Simulated truth: midpoints (log10 FLOPs) of five families, one shared steepness, ceiling 1.
T_TRUE = {"a": 21.4, "b": 21.8, "c": 22.0, "d": 22.3, "e": 22.7}
K_TRUE = 2.0
PHI = 300.0
POOL = {"T_offset": "partial", "k": "shared"}


def _simulate(families, per_family: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for fam in families:
        logc = np.sort(rng.uniform(20.0, 24.0, per_family))
        acc = 1.0 / (1.0 + np.exp(-K_TRUE * (logc - T_TRUE[fam])))
        y = rng.beta(acc * PHI, (1.0 - acc) * PHI)
        rows.append(pd.DataFrame({"C": 10.0**logc, "family": fam, "accuracy": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def family_fit():
    runs = _simulate(["a", "b", "c", "d", "e"], 8, seed=3)
    law = bs.get_law("emergence", x="C", floor=0.0, ceiling=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        fit = bs.fit(
            law, runs, group="family", pool=POOL, likelihood="beta", draws=200, tune=300,
            chains=2, random_seed=0, progressbar=False,
        )  # fmt: skip
    return fit


def test_family_offsets_recovered(family_fit):
    """Each family's midpoint is recovered from 8 runs; offsets from the population mean
    follow the simulated ones."""
    T = family_fit.posterior["T"]
    med = T.median(("chain", "draw"))
    lo, hi = T.quantile([0.025, 0.975], dim=("chain", "draw"))
    for fam, truth in T_TRUE.items():
        got = float(med.sel(group=fam))
        assert abs(got - truth) < 0.15, (fam, got, truth)
        assert float(lo.sel(group=fam)) <= truth <= float(hi.sel(group=fam)), fam
    offsets = med.to_numpy() - med.to_numpy().mean()
    truth = np.array([T_TRUE[str(g)] for g in med["group"].to_numpy()])
    np.testing.assert_allclose(offsets, truth - truth.mean(), atol=0.12)
    k = float(family_fit.posterior["k"].median())
    assert abs(k - K_TRUE) < 0.3
    # the between-family spread (sd of the true midpoints: 0.43) is learned, not shrunk to 0
    tau = float(family_fit.posterior["T_offset_tau"].median())
    assert 0.2 < tau < 1.2


def test_new_family_is_wider_than_a_seen_one(family_fit):
    """A new family's expected accuracy and threshold carry the between-family spread."""
    seen = bs.predict_accuracy(family_fit, C=1e22, group="c")
    new = bs.predict_accuracy(family_fit, C=1e22, group=bs.NEW_GROUP, random_seed=0)
    width = lambda d: float(np.diff(d.quantile([0.05, 0.95]).to_numpy())[0])  # noqa: E731
    assert width(new) > 3 * width(seen)
    t_seen = bs.emergence_threshold(family_fit, level=0.5, group="c")
    t_new = bs.emergence_threshold(family_fit, level=0.5, group=bs.NEW_GROUP, random_seed=0)
    assert float(t_new["log10_threshold"].std()) > 3 * float(t_seen["log10_threshold"].std())
    # centred near the population: the mean of the simulated midpoints (22.04)
    assert abs(float(t_new["log10_threshold"].median()) - 22.04) < 0.4
    # same seed, same new-family draws
    again = bs.emergence_threshold(family_fit, level=0.5, group=bs.NEW_GROUP, random_seed=0)
    np.testing.assert_array_equal(t_new["log10_threshold"], again["log10_threshold"])


def test_score_holdout_seen_and_new_families(family_fit):
    held = _simulate(["c", "e"], 3, seed=11)
    held["family"] = ["c", "c", "c", "new", "new", "new"]
    s = bs.score_holdout(family_fit, held, ci_prob=0.9, random_seed=0)
    assert s["seen"].tolist() == [True] * 3 + [False] * 3
    assert np.isfinite(s["log_density"]).all()
    assert s.attrs["lpd"] == pytest.approx(s["log_density"].sum())
    # a new family's intervals are wider than a seen family's at similar scales
    w = (s["hi"] - s["lo"]).to_numpy()
    assert w[3:].mean() > w[:3].mean()
    with pytest.raises(ValueError, match="family"):
        bs.score_holdout(family_fit, held.drop(columns="family"))


def test_score_holdout_density_matches_scipy():
    """The held-out log density of a plain Beta fit, against scipy's Beta written out per draw
    (with the squeeze's Jacobian: the density of the reported accuracy)."""
    law = bs.get_law("emergence", x="C", floor=0.0)
    runs = _simulate(["c"], 12, seed=5)[["C", "accuracy"]]
    rng = np.random.default_rng(0)

    def draws(ref):
        return {
            "T_offset": 22.0 - ref["log10X_ref"] + 0.05 * rng.standard_normal((2, 50)),
            "k": 2.0 + 0.1 * rng.standard_normal((2, 50)),
            "ceiling_frac": 0.95 + 0.01 * rng.standard_normal((2, 50)),
            "phi": 300.0 * np.exp(0.1 * rng.standard_normal((2, 50))),
        }

    fit = bs.testing.fit_from_draws(law, runs, draws, likelihood="beta", random_seed=0)
    held = runs.iloc[[2, 6, 10]]
    s = bs.score_holdout(fit, held, ci_prob=0.8, random_seed=1)
    q = fit.params()
    phi = fit.params("noise")["phi"].to_numpy().ravel()
    for i, (c, y) in enumerate(zip(held["C"], held["accuracy"], strict=True)):
        z = q["k"].to_numpy().ravel() * (np.log10(c) - q["T"].to_numpy().ravel())
        p = q["ceiling"].to_numpy().ravel() / (1 + np.exp(-z))
        m = SQUEEZE + (1 - 2 * SQUEEZE) * p
        dens = stats.beta.pdf(SQUEEZE + (1 - 2 * SQUEEZE) * y, m * phi, (1 - m) * phi)
        expected = np.log(np.mean(dens * (1 - 2 * SQUEEZE)))
        assert s["log_density"].iloc[i] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert s.attrs["coverage"] == pytest.approx(s["inside"].mean())
