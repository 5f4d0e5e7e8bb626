"""Simulation-based calibration (bayescale.testing.sbc) at a small size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.sbc import rank_uniformity

SMALL = {"n_sims": 10, "draws": 100, "tune": 150, "n_thin": 49, "progressbar": False}


def test_rank_uniformity_detects_skew():
    rng = np.random.default_rng(1)
    uniform = rng.integers(0, 100, size=400)
    skewed = np.minimum(rng.integers(0, 100, size=400), rng.integers(0, 100, size=400))
    ok = rank_uniformity(uniform, n_thin=99)
    bad = rank_uniformity(skewed, n_thin=99)
    assert ok["bins"] == 20 and ok["chi2_pvalue"] > 0.01 and ok["ks_pvalue"] > 0.01
    assert bad["chi2_pvalue"] < 1e-6 and bad["ks_pvalue"] < 1e-6
    # uneven bins: 50 rank values in 3 bins still have the right expected counts
    assert rank_uniformity(rng.integers(0, 50, size=3000), n_thin=49, bins=3)["chi2_pvalue"] > 1e-3


def test_rank_uniformity_controls_at_sbc_size():
    # the failure check_result must catch: every true value below all 49 draws, 10 simulations
    n_sims, n_thin = SMALL["n_sims"], SMALL["n_thin"]
    piled = rank_uniformity(np.zeros(n_sims, int), n_thin)
    assert piled["bins"] == 2
    assert piled["chi2_pvalue"] > 1e-3  # the χ² test cannot see it at this size
    assert piled["ks_pvalue"] < 1e-3
    top = rank_uniformity(np.full(n_sims, n_thin), n_thin)
    assert top["ks_pvalue"] < 1e-3
    # evenly spread ranks pass both tests
    spread = rank_uniformity(np.linspace(0, n_thin, n_sims).round().astype(int), n_thin)
    assert spread["chi2_pvalue"] > 1e-3 and spread["ks_pvalue"] > 1e-3


def check_result(res, n_sims, names):
    assert res.n_used + len(res.rejected) + len(res.failed) == n_sims
    assert list(res.ranks.columns) == names
    assert res.ranks.to_numpy().min() >= 0 and res.ranks.to_numpy().max() <= res.n_thin
    assert list(res.tests.index) == names
    assert res.pvalues.between(0, 1).all()
    # A small run has little power, and with n_sims=10 the χ² test has only 2 bins: its p-value
    # cannot fall below 0.0016 (all ranks in one bin), so the χ² assertion alone cannot fail.
    # The KS test on the fractional ranks can: ranks piled at one end (a broken sampler or
    # model) give p ≈ 1e-17 (see test_rank_uniformity_controls_at_sbc_size).
    assert res.pvalues.min() > 1e-3
    assert res.tests["ks_pvalue"].between(0, 1).all()
    assert res.tests["ks_pvalue"].min() > 1e-3
    assert "SBC of" in str(res)


def test_sbc_chinchilla_small():
    design = bs.testing.chinchilla_design(30, random_seed=0)
    res = bs.testing.sbc("chinchilla", design, random_seed=0, **SMALL)
    # drift (the extrapolation term) is prior-only: its ranks are uniform by construction
    check_result(
        res, 10, ["log_E", "log_A_ref", "log_B_ref", "alpha", "beta", "sigma", "nu", "drift"]
    )
    assert len(res.diagnostics) == res.n_used


def test_sbc_power_law_small():
    law = bs.get_law("power_law")
    design = pd.DataFrame({law.inputs[0]: np.logspace(7, 11, 25)})
    res = bs.testing.sbc(law, design, random_seed=1, **SMALL)
    check_result(res, 10, [*law.parameter_names, "sigma", "nu", "drift"])


def test_sbc_counts_rejections_and_checks_arguments():
    design = bs.testing.chinchilla_design(20, random_seed=2)
    res = bs.testing.sbc(
        "chinchilla",
        design,
        n_sims=4,
        draws=50,
        tune=50,
        n_thin=20,
        progressbar=False,
        accept=lambda runs: bool(runs["loss"].max() < 0),  # refuse everything
    )
    assert res.n_used == 0 and len(res.rejected) == 4
    assert all("refused by accept" in r for r in res.rejected)
    with pytest.raises(ValueError, match="lacks the columns"):
        bs.testing.sbc("chinchilla", design.drop(columns="D"), n_sims=1)
    with pytest.raises(ValueError, match="n_thin"):
        bs.testing.sbc("chinchilla", design, n_sims=1, draws=10, chains=2, n_thin=50)
