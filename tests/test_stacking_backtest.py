"""Backtesting a stack: members refitted at each cutoff (tiny NUTS runs) and stacked again."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.cli import main

pytestmark = pytest.mark.slow

SETTINGS = {"draws": 100, "tune": 100, "chains": 1}
CUTOFF = 1e21


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(50, random_seed=4)


@pytest.fixture(scope="module")
def given(runs):
    """A stack with given weights of two pinned fits (Student-t, Normal) of the runs."""
    t = bs.testing.pinned_fit(random_seed=0, data=runs, chains=1, draws=100)
    n = bs.testing.pinned_fit(random_seed=1, data=runs, chains=1, draws=100)
    n = bs.testing.fit_from_draws(
        "chinchilla",
        runs,
        {k: n.posterior[k].to_numpy() for k in ("log_A_ref", "log_B_ref", "log_E", "alpha",
                                                 "beta", "sigma")},
        likelihood="normal",
    )  # fmt: skip
    return bs.stack({"t": t, "n": n}, weights={"t": 0.3, "n": 0.7})


@pytest.fixture(scope="module")
def result(given, runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.backtest(given, runs, split={"C": CUTOFF}, random_seed=2, **SETTINGS)


def test_members_are_refitted_with_their_own_settings(given, runs, result):
    st = result.fits[CUTOFF]
    assert isinstance(st, bs.StackedFit) and st.method == "given"
    assert st.weights.to_dict() == {"t": 0.3, "n": 0.7}
    train = runs[6 * runs["N"] * runs["D"] < CUTOFF]
    assert len(st.data) == len(train) < len(runs)
    # the reference: bs.fit of the member's law, likelihood and priors, with the cutoff's seed
    for name, member in given.fits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = bs.fit(member.law, train, likelihood=member.likelihood.name,
                         priors=dict(member.priors), random_seed=2, progressbar=False,
                         warn=False, **SETTINGS)  # fmt: skip
        for var in ("log_E", "alpha"):
            np.testing.assert_array_equal(
                st.fits[name].posterior[var].to_numpy(), ref.posterior[var].to_numpy()
            )


def test_held_out_runs_are_scored_with_the_mixture(runs, result):
    st = result.fits[CUTOFF]
    test = runs[6 * runs["N"] * runs["D"] >= CUTOFF]
    draws = bs.predict_loss(
        st, N=test["N"].to_numpy(), D=test["D"].to_numpy(), kind="predictive", random_seed=1002
    )
    flat = draws.to_numpy().reshape(-1, len(test))
    np.testing.assert_allclose(result.table["median"], np.median(flat, axis=0), rtol=1e-12)
    lo, hi = np.quantile(flat, [0.025, 0.975], axis=0)
    inside = (test["loss"].to_numpy() >= lo) & (test["loss"].to_numpy() <= hi)
    assert result.overall["coverage_95"] == pytest.approx(inside.mean())


def test_laws_restacked_by_loo_at_each_cutoff(runs):
    laws = ["chinchilla", ("chinchilla", {"likelihood": "normal"})]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = bs.backtest(laws, runs, split={"C": CUTOFF}, stack="pseudo-BMA", random_seed=2,
                         warn=False, **SETTINGS)  # fmt: skip
    st = bt.fits[CUTOFF]
    assert st.names == ["chinchilla@1:studentt", "chinchilla@1:normal"]
    ref = bs.stack(st.fits, method="pseudo-BMA", warn=False)
    np.testing.assert_allclose(st.weights.to_numpy(), ref.weights.to_numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="stack= needs several members"):
        bs.backtest("chinchilla", runs, split={"C": CUTOFF}, stack="stacking")
    with pytest.raises(TypeError, match=r"law\[1\] must be a law"):
        bs.backtest(["chinchilla", 3], runs, split={"C": CUTOFF})


def test_cli_backtest_of_a_saved_stack(given, runs, result, tmp_path, capsys):
    folder = given.save(tmp_path / "stack")
    csv = tmp_path / "runs.csv"
    runs.to_csv(csv, index=False)
    argv = ["backtest", folder, str(csv), "--cutoff", "1e21", "--draws", "100", "--tune", "100",
            "--chains", "1", "--random-seed", "2", "--format", "csv"]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0)
    assert table.loc[CUTOFF, "coverage_95"] == pytest.approx(
        result.metrics.loc[CUTOFF, "coverage_95"]
    )
    assert table.loc[CUTOFF, "mean_crps"] == pytest.approx(result.metrics.loc[CUTOFF, "mean_crps"])


def test_report_of_a_stack_with_its_backtest(given, result, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    path = bs.report(given, tmp_path / "rep", compute=[1e22], backtest=result)
    text = open(path).read()
    n = len(result.table)
    covered = int(result.table["inside95"].sum())
    assert "## Calibration" in text and f"of {n} held-out runs" in text
    assert f"95% intervals hold {covered / n:.0%}" in text
    assert (tmp_path / "rep" / "backtest.png").is_file()
