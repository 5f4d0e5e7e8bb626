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


def check_result(res, n_sims, names):
    assert res.n_used + len(res.rejected) + len(res.failed) == n_sims
    assert list(res.ranks.columns) == names
    assert res.ranks.to_numpy().min() >= 0 and res.ranks.to_numpy().max() <= res.n_thin
    assert list(res.tests.index) == names
    assert res.pvalues.between(0, 1).all()
    # small runs have little power, but a broken sampler or model shows up even here
    assert res.pvalues.min() > 1e-3
    assert "SBC of" in res.summary()


def test_sbc_chinchilla_small():
    design = bs.testing.chinchilla_design(30, seed=0)
    res = bs.testing.sbc("chinchilla", design, seed=0, **SMALL)
    check_result(res, 10, ["log_E", "log_A_ref", "log_B_ref", "alpha", "beta", "sigma", "nu"])
    assert len(res.diagnostics) == res.n_used


def test_sbc_power_law_small():
    law = bs.get_law("power_law")
    design = pd.DataFrame({law.inputs[0]: np.logspace(7, 11, 25)})
    res = bs.testing.sbc(law, design, seed=1, **SMALL)
    check_result(res, 10, [*law.parameter_names, "sigma", "nu"])


def test_sbc_counts_rejections_and_checks_arguments():
    design = bs.testing.chinchilla_design(20, seed=2)
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
