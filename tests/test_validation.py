"""Backtests, model comparison and predictive checks (bayescale.validation)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import bayescale as bs
from bayescale.data import prepare_data
from bayescale.validation import _check, _pit, _score, crps_from_draws

FAST = {"draws": 200, "tune": 200, "chains": 2, "progressbar": False, "warn": False}


@pytest.fixture(scope="module")
def sim_runs():
    return bs.testing.simulate_chinchilla(n=80, random_seed=11)


@pytest.fixture(scope="module")
def fast_fits(sim_runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            name: bs.fit(name, sim_runs, random_seed=1, **FAST)
            for name in ("chinchilla", "chinchilla_shared_exponent")
        }


# ---------------------------------------------------------------------- scoring
def test_crps_matches_normal_closed_form():
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((40000, 3))
    y = np.array([0.0, 1.0, -2.0])
    # CRPS of N(0, 1) at y: y(2Φ(y) − 1) + 2φ(y) − 1/√π
    exact = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / np.sqrt(np.pi)
    np.testing.assert_allclose(crps_from_draws(draws, y), exact, atol=0.01)


def test_score_intervals_pit_and_errors():
    draws = np.tile(np.arange(1, 101, dtype=float)[:, None], (1, 2))
    scored = _score(draws, np.array([50.25, 200.0]), (0.5, 0.9))
    assert scored["pit"].tolist() == [0.5, 1.0]
    assert scored["inside50"].tolist() == [True, False]
    np.testing.assert_allclose(scored["rel_error"], (50.5 - np.array([50.25, 200])) / [50.25, 200])


def test_pit_splits_ties_for_discrete_predictive():
    # binomial counts: draws equal the observation often, so a strict "<" biases PIT low
    rng = np.random.default_rng(0)
    n_runs, n_draws = 400, 2000
    draws = rng.binomial(6, 0.5, size=(n_draws, n_runs)).astype(float)
    obs = rng.binomial(6, 0.5, size=n_runs).astype(float)
    pit = _pit(draws, obs, axis=0)
    assert abs(pit.mean() - 0.5) < 0.02
    # each value estimates the mid-rank PIT of Binomial(6, ½) at y: F(y − 1) + ½·P(Y = y)
    # (a strict "<" would be low by ½·P(Y = y), up to 0.16); 2000 draws: sd ≤ 0.011
    exact = stats.binom.cdf(obs - 1, 6, 0.5) + 0.5 * stats.binom.pmf(obs, 6, 0.5)
    np.testing.assert_allclose(pit, exact, atol=0.05)
    # wiring: the axis argument and _score give the same values
    assert _pit(draws.T, obs, axis=1).tolist() == pit.tolist()
    assert _score(draws, obs, (0.5,))["pit"].tolist() == pit.tolist()
    # the predictive check uses the same mid-rank PIT as the backtest
    da = xr.DataArray(
        draws.reshape(2, n_draws // 2, n_runs),
        dims=("chain", "draw", "run"),
        coords={"run": np.arange(n_runs)},
    )
    check = _check("posterior", da, {"n_items": np.full(n_runs, 6.0)}, obs, 0.9)
    np.testing.assert_allclose(check.table["pit"].to_numpy(), pit)
    assert abs(check.table["pit"].mean() - 0.5) < 0.02
    # the bands hold the binomial's true share of observations: P(1 ≤ Y ≤ 5) = 62/64 for the
    # 90% band, P(2 ≤ Y ≤ 4) = 50/64 for the 50% band (sd over 400 runs ≤ 0.021)
    for prob, key in ((0.9, "frac_inside"), (0.5, "frac_inside_50")):
        lo, hi = stats.binom.ppf([(1 - prob) / 2, (1 + prob) / 2], 6, 0.5)
        share = stats.binom.cdf(hi, 6, 0.5) - stats.binom.cdf(lo - 1, 6, 0.5)
        assert abs(check.metrics[key] - share) < 0.06, key


def test_posterior_predictive_check_pit_on_binomial_fit():
    f = bs.emergence.pinned_emergence_fit(random_seed=0)
    check = bs.posterior_predictive_check(f, random_seed=0)
    values = check.draws.transpose("chain", "draw", "run").to_numpy()
    flat = values.reshape(-1, values.shape[-1])
    observed = check.table["observed"].to_numpy()
    assert (flat == observed[None, :]).mean() > 0.005  # ties occur
    expected = np.mean(flat < observed, axis=0) + 0.5 * np.mean(flat == observed, axis=0)
    np.testing.assert_allclose(check.table["pit"].to_numpy(), expected)


# ---------------------------------------------------------------------- binomial counts
def test_binomial_counts_checked_for_every_row_naming_both_columns():
    law = bs.get_law("emergence", floor=0.0)
    binomial = bs.get_likelihood("binomial")
    runs = pd.DataFrame(
        {
            "C": np.logspace(19, 24, 6),
            "acc": [0.0, 0.29, 0.333, 0.5, 0.125, 1.0],  # 0.29 × 100 is 28.999999999999996
            "items": [10.0, 100.0, 3.0, 7.0, 8.0, 4.0],
        },
        index=[f"run{i}" for i in range(6)],
    )
    columns = {"accuracy": "acc", "n_items": "items"}
    with pytest.raises(ValueError) as err:
        prepare_data(law, runs, columns, likelihood=binomial)
    message = str(err.value)
    assert "column 'acc' × column 'items' must be a whole number" in message
    assert "2 row(s): 'run2' (0.999), 'run3' (3.5)" in message
    assert "position" not in message
    # whole counts (up to floating-point error) pass, and the counts are rounded
    good = runs.drop(index=["run2", "run3"])
    prepared = prepare_data(law, good, columns, likelihood=binomial)
    counts = binomial.transform(prepared.y, **prepared.extra)
    assert counts.tolist() == [0.0, 29.0, 1.0, 4.0]
    # the beta-binomial rounds to a nominal count and the beta takes any proportion
    prepare_data(law, runs, columns, likelihood=bs.get_likelihood("betabinomial"))
    prepare_data(law, runs, {"accuracy": "acc"}, likelihood=bs.get_likelihood("beta"))


# ---------------------------------------------------------------------- backtest
def test_backtest_rejects_invalid_held_out_runs(sim_runs):
    runs = sim_runs.copy()
    runs["loss"] = runs["loss"].astype(object)
    held = runs.index[(runs["C"] >= 1e21).to_numpy()]
    runs.loc[held[0], "loss"] = np.nan
    runs.loc[held[1], "loss"] = "n/a"
    with pytest.raises(ValueError, match="held-out") as err:
        bs.backtest("chinchilla", runs, split={"C": 1e21}, **FAST)
    message = str(err.value)
    assert "column 'loss'" in message
    assert "missing (NaN)" in message and "non-numeric" in message
    assert repr(held[0].item()) in message and repr(held[1].item()) in message


def test_backtest_single_and_rolling(sim_runs):
    # runs simulated from the law itself: the model without the extrapolation drift (which
    # allows for a law that is wrong beyond the data) is the calibrated one here
    bt = bs.backtest("chinchilla", sim_runs, split={"C": 1e21}, drift=False, **FAST)
    held = sim_runs[sim_runs["C"] >= 1e21]
    assert len(bt.table) == len(held) and set(bt.table["run"]) == set(held.index)
    for col in ("observed", "median", "lo50", "hi95", "rel_error", "pit", "crps", "inside80"):
        assert col in bt.table.columns
    row = bt.metrics.loc[1e21]
    assert row["n_train"] == len(sim_runs) - len(held) and row["n_test"] == len(held)
    # nested bands (true by construction: wiring checks)
    assert row["coverage_50"] <= row["coverage_80"] <= row["coverage_95"]
    assert row["width_50"] < row["width_80"] < row["width_95"]
    # runs simulated from the law itself: the 95% band covers most, the error is small
    assert row["coverage_95"] >= 0.75 and row["median_abs_rel_error"] < 0.02
    # and the bands are calibrated: with ≥ 20 held-out runs a coverage has sd ≤ 0.11, so the 50%
    # and 80% bands cover 50% ± 30% and at least 50% of them; the PIT is centred on ½ (the
    # PITs share the posterior's error, so this is looser than for independent uniforms)
    assert row["n_test"] >= 20
    assert 0.2 <= row["coverage_50"] <= 0.85 and row["coverage_80"] >= 0.5
    assert abs(bt.table["pit"].mean() - 0.5) < 0.2
    assert "coverage" in str(bt)

    rolling = bs.backtest("chinchilla", sim_runs, split={"N": [1e9, 3e9]}, **FAST)
    assert list(rolling.metrics.index) == [1e9, 3e9]
    assert sorted(rolling.table["cutoff"].unique()) == [1e9, 3e9]
    assert rolling.overall["n_test"] == len(rolling.table)
    assert set(rolling.fits) == {1e9, 3e9}


def test_backtest_bad_splits(sim_runs):
    with pytest.raises(ValueError, match="split must be one"):
        bs.backtest("chinchilla", sim_runs, split={"C": 1e21, "N": 1e9}, **FAST)
    with pytest.raises(ValueError, match="nothing to predict"):
        bs.backtest("chinchilla", sim_runs, split={"C": 1e30}, **FAST)
    with pytest.raises(ValueError, match="split column 'params'"):
        bs.backtest("chinchilla", sim_runs, split={"params": 1e9}, **FAST)
    no_c = sim_runs.drop(columns="C")
    assert bs.backtest("chinchilla", no_c, split={"C": 1e21}, **FAST).metrics.shape[0] == 1


# ---------------------------------------------------------------------- compare
def test_compare_two_laws(fast_fits):
    table = bs.compare(fast_fits, warn=False)
    assert set(table.index) == set(fast_fits)
    assert list(table.columns[:7]) == ["rank", "elpd", "se", "elpd_diff", "dse", "p", "weight"]
    assert table["elpd_diff"].iloc[0] == 0 and (table["elpd_diff"] <= 0).all()
    assert isinstance(table.attrs["warnings"], list)
    # a list of fits is named after the laws
    assert set(bs.compare(list(fast_fits.values()), warn=False).index) == set(fast_fits)


def test_compare_refuses_different_runs(fast_fits, pinned):
    with pytest.raises(ValueError, match="different runs"):
        bs.compare({"a": fast_fits["chinchilla"], "b": pinned})
    with pytest.raises(ValueError, match="at least two"):
        bs.compare([pinned])


def test_compare_reports_pareto_k_in_plain_words():
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=2)
    runs.loc[runs.index[0], "loss"] *= 1.6  # a badly extracted run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [
            bs.fit("chinchilla", runs, likelihood=lik, random_seed=0, **FAST)
            for lik in ("normal", "studentt")
        ]
    with pytest.warns(UserWarning, match="Pareto k above"):
        table = bs.compare({"normal": fits[0], "studentt": fits[1]})
    assert table.loc["normal", "n_high_k"] >= 1
    assert any("runs 0" in w or "runs 0," in w for w in table.attrs["warnings"])


# ---------------------------------------------------------------------- predictive checks
def test_posterior_predictive_check(pinned):
    check = bs.posterior_predictive_check(pinned, ci_prob=0.9, random_seed=0)
    assert check.draws.dims == ("chain", "draw", "run")
    assert check.draws.shape == (4, 250, len(pinned.data))
    assert 0.8 <= check.metrics["frac_inside"] <= 1
    assert check.metrics["n_outside"] == int((~check.table["inside"]).sum())
    assert {"N", "D", "observed", "median", "lo", "hi", "pit"} <= set(check.table.columns)
    assert "observed inside the 90% band" in str(check)


def test_prior_predictive_with_and_without_losses():
    design = bs.testing.chinchilla_design(25, random_seed=1)
    before = bs.prior_predictive("chinchilla", design, draws=300, random_seed=0)
    assert before.draws.shape == (1, 300, 25)
    assert np.isnan(before.metrics["frac_inside"])
    assert before.metrics["frac_nonfinite"] == 0
    assert {"alpha", "A", "E", "a"} <= set(before.params.data_vars)
    runs = bs.testing.simulate_chinchilla(n=25, random_seed=1)
    after = bs.prior_predictive("chinchilla", runs, draws=300, random_seed=0)
    # the default priors are wide: the observed losses sit well inside the prior band
    assert after.metrics["frac_inside"] == 1.0
    tight = bs.prior_predictive(
        "chinchilla",
        runs,
        draws=300,
        random_seed=0,
        priors={"log_E": bs.Prior("Normal", mu=3.0, sigma=0.01)},
    )
    assert tight.metrics["frac_inside"] < 0.5  # E ≈ 20 nats cannot produce losses near 2


# ---------------------------------------------------------------------- the Chinchilla runs
@pytest.mark.slow
def test_backtest_and_compare_on_chinchilla_runs(protocol_runs, protocol_fit):
    bt = bs.backtest("chinchilla", protocol_runs, split={"C": 1e21}, random_seed=0)
    row = bt.metrics.loc[1e21]
    assert row["n_test"] == int((protocol_runs["C"] >= 1e21).sum())
    assert row["median_abs_rel_error"] < 0.03
    laws = ["kaplan", "chinchilla_shared_exponent"]
    fits = {"chinchilla": protocol_fit}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        fits |= {n: bs.fit(n, protocol_runs, random_seed=0, progressbar=False) for n in laws}
    table = bs.compare(fits, warn=False)
    assert set(table.index) == set(fits)
    assert (table["dse"].iloc[1:] > 0).all()
    assert table.index[-1] == "kaplan"
