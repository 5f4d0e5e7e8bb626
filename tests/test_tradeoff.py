"""The train/test compute trade-off (Jones 2021): the ``train_test`` law against its equation
written out, the exchange rate against a brute-force search for equal performance, recovery of
a simulated truth, and the figure. numpy = PyTensor, the inverse map and save/load of the law are
covered by test_catalogue.py."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import bayescale as bs

TRUTH = bs.get_law("train_test").example_truth


def _win_rate(q, c, c_test):
    """Jones's log-linear Elo, as the win rate against a fixed opponent, written out."""
    elo = 400.0 / math.log(10.0) * (q["a"] * np.log10(c) + q["b"] * np.log10(c_test) + q["c"])
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def test_law_is_log_linear_elo():
    law = bs.get_law("train_test")
    c, c_test = np.array([1e13, 3e15, 1e17]), np.array([1e7, 2e9, 5e10])
    np.testing.assert_allclose(law.evaluate(TRUTH, C=c, C_test=c_test), _win_rate(TRUTH, c, c_test))
    derived = law.derived_params(TRUTH)
    assert float(derived["elo_per_decade_train"]) == pytest.approx(
        TRUTH["a"] * 400 / math.log(10), rel=1e-12
    )


def _equal_performance_test_compute(q, c, c_test0, c_new):
    """C_test at training compute ``c_new`` with the win rate of (c, c_test0), by bisection in
    log10 C_test on the law's numpy evaluator."""
    law = bs.get_law("train_test")
    target = float(law.evaluate(q, C=c, C_test=c_test0))
    lo, hi = -10.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(law.evaluate(q, C=c_new, C_test=10.0**mid)) < target:
            lo = mid
        else:
            hi = mid
    return 10.0 ** (0.5 * (lo + hi))


def test_exchange_rate_is_the_brute_force_equal_performance_ratio():
    fit = bs.testing.pinned_law_fit("train_test", random_seed=0, chains=1, draws=3)
    res = bs.tradeoff(fit, train_multiples=[2.0, 10.0], level=0.7, compute=[1e14, 1e16])
    q_draws = {k: fit.params()[k].to_numpy().reshape(-1) for k in ("a", "b", "c")}
    for i in range(3):
        q = {k: float(v[i]) for k, v in q_draws.items()}
        for j, k in enumerate((2.0, 10.0)):
            # k× training compute saves a factor of test-time compute at equal performance
            saved = 1e9 / _equal_performance_test_compute(q, 1e15, 1e9, k * 1e15)
            got = float(res.draws["test_multiple"].to_numpy().reshape(-1, 2)[i, j])
            assert got == pytest.approx(saved, rel=1e-9)
        for j, c in enumerate((1e14, 1e16)):
            c_test = float(res.draws["C_test"].to_numpy().reshape(-1, 2)[i, j])
            assert float(_win_rate(q, c, c_test)) == pytest.approx(0.7, rel=1e-9)


def test_jones_published_exchange_rate_in_the_law_parameters():
    """ "for each additional 10× of train-time compute, about 15× of test-time compute can be
    eliminated" (Jones 2021, Sec. IV, Fig. 9): a/b = log10 15 gives 15× per 10×."""
    a = 2.9
    q = {"a": a, "b": a / math.log10(15.0), "c": -40.0}
    fit = bs.testing.pinned_law_fit("train_test", natural=q, random_seed=0, rel_sd=1e-6)
    med = bs.tradeoff(fit, train_multiples=[10.0]).draws["test_multiple"].median()
    assert float(med) == pytest.approx(15.0, rel=1e-4)


@pytest.mark.slow
def test_recovers_the_exchange_rate_and_iso_curve_from_simulated_matches():
    law = bs.get_law("train_test")
    runs = law.example_runs(random_seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        fit = bs.fit(law, runs, draws=400, tune=400, chains=2, random_seed=5, progressbar=False)
    compute = [2e14, 1e15, 5e15]
    res = bs.tradeoff(fit, train_multiples=[2.0, 10.0], level=0.6, compute=compute)
    table = res.summary().reset_index()
    ratio = TRUTH["a"] / TRUTH["b"]
    want = {
        ("test_multiple", 2.0): 2.0**ratio,
        ("test_multiple", 10.0): 10.0**ratio,
    }
    logit = math.log(0.6 / 0.4)
    for c in compute:
        want[("C_test", c)] = 10 ** ((logit - TRUTH["c"] - TRUTH["a"] * math.log10(c)) / TRUTH["b"])
    for (var, x), value in want.items():
        col = "train_multiple" if var == "test_multiple" else "compute"
        row = table[(table["variable"] == var) & np.isclose(table[col], x)].iloc[0]
        assert row["ci95_lo"] <= value <= row["ci95_hi"], (var, x, value, row.to_dict())
        # an informative answer: the interval is within ±30% of the truth
        assert row["ci95_hi"] / row["ci95_lo"] < 1.7, (var, x)


def test_bad_input_is_named():
    fit = bs.testing.pinned_law_fit("train_test", random_seed=0, chains=1, draws=5)
    with pytest.raises(ValueError, match="train_test"):
        bs.tradeoff(bs.testing.pinned_fit(random_seed=0))
    with pytest.raises(ValueError, match="level"):
        bs.tradeoff(fit, level=1.0)
    with pytest.raises(ValueError, match="compute"):
        bs.tradeoff(fit, compute=[1e15, -1.0])
    with pytest.raises(ValueError, match="train_multiples"):
        bs.tradeoff(fit, train_multiples=[0.0])
    with pytest.raises(ValueError, match="ci_prob"):
        bs.tradeoff(fit, ci_prob=1.5)


def test_figure_honours_ax_and_type_size():
    fit = bs.testing.pinned_law_fit("train_test", random_seed=0)
    res = bs.tradeoff(fit, ci_prob=0.9)
    fig, axes = plt.subplots(1, 2)
    got_fig, got = bs.tradeoff(fit).plot(ax=axes)
    assert got_fig is fig and list(got) == list(axes)
    fig, (curve, rate) = res.plot()
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
    assert min(sizes) >= 9
    assert curve.get_xscale() == "log" and rate.get_yscale() == "log"
    assert "90%" in " ".join(t.get_text() for t in fig.legends[0].get_texts())
    plt.close("all")
