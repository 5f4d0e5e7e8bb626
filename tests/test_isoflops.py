"""Approach 2 with posteriors (bayescale/isoflops.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.isoflops import IsoflopQualityWarning, fit_isoflops


def isoflop_runs(a=0.5, *, n_per=9, budgets=(1e19, 1e20, 1e21), noise=0.003, random_seed=0):
    """Runs on parabolas in log N around N* = 1e9 (C/1e20)^a with log-normal noise."""
    rng = np.random.default_rng(random_seed)
    rows = []
    for c in budgets:
        log_star = np.log(1e9) + a * np.log(c / 1e20)
        for x in np.linspace(-1.6, 1.6, n_per):
            n = float(np.exp(log_star + x))
            log_l = np.log(3.0) - 0.02 * np.log(c / 1e19) + 0.08 * x**2
            loss = float(np.exp(log_l + noise * rng.standard_normal()))
            rows.append({"N": n, "D": c / (6 * n), "C": c, "loss": loss})
    return pd.DataFrame(rows)


def test_pinned_result_summary_and_n_opt():
    res = bs.testing.pinned_isoflops(random_seed=0)
    s = res.summary()
    assert isinstance(s, pd.DataFrame)
    assert list(s.columns) == ["mean", "median", "lower", "upper"]
    assert s.loc["a", "lower"] < 0.49 < s.loc["a", "upper"]
    np.testing.assert_allclose(s.loc["a", "median"] + s.loc["b", "median"], 1.0, atol=1e-12)
    assert "N*[C=1e+20]" in s.index and "D*[C=1e+20]" in s.index
    # N* on the trend at a fitted budget equals that budget's N* (no scatter in the pin)
    n = res.n_opt(1e20).sel(compute=1e20)
    np.testing.assert_allclose(n, res.posterior["n_opt"].sel(compute=1e20), rtol=1e-10)
    d = res.d_opt([1e22])
    np.testing.assert_allclose(6 * d * res.n_opt([1e22]), 1e22, rtol=1e-12)
    narrow = res.summary(ci_prob=0.5)
    assert (
        narrow.loc["a", "upper"] - narrow.loc["a", "lower"]
        < s.loc["a", "upper"] - s.loc["a", "lower"]
    )
    assert not res.flags["flagged"].any()


def test_data_flags_name_each_problem():
    runs = isoflop_runs()
    few = runs[runs.C == 1e19].iloc[:4]  # 4 points, all left of the minimum → off centre
    dup = pd.concat([runs[runs.C == 1e20], runs[runs.C == 1e20].iloc[[0]]])
    runs = pd.concat([few, dup, runs[runs.C == 1e21]], ignore_index=True)
    from bayescale.isoflops import _data_flags

    flags = _data_flags(runs, np.array([1e19, 1e20, 1e21])).set_index("compute")
    assert flags.loc[1e19, "too_few_points"] and flags.loc[1e19, "off_center"]
    assert flags.loc[1e20, "exact_duplicate"] and not flags.loc[1e20, "off_center"]
    assert not flags.loc[1e21, ["too_few_points", "off_center", "exact_duplicate"]].any()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="loss"):
        fit_isoflops(pd.DataFrame({"N": [1.0], "C": [1.0]}))
    with pytest.raises(ValueError, match="two isoFLOP budgets"):
        fit_isoflops(isoflop_runs(budgets=(1e20,)))
    with pytest.raises(ValueError, match="sampler"):
        fit_isoflops(isoflop_runs(), sampler="stan")
    with pytest.raises(ValueError, match="compute"):
        bs.testing.pinned_isoflops().n_opt(-1.0)


def test_fit_recovers_exponent_and_flags_a_flat_curve():
    """Tiny NUTS run (nutpie): a recovered; a curve with no curvature is flagged."""
    runs = isoflop_runs(a=0.45, budgets=(1e19, 1e20, 1e21, 1e22), random_seed=1)
    flat = runs.C == 1e22
    runs.loc[flat, "loss"] = 2.0 * np.exp(0.003 * np.random.default_rng(2).standard_normal(9))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_isoflops(runs, draws=300, tune=400, chains=2, random_seed=0)
    msgs = [str(w.message) for w in caught if issubclass(w.category, IsoflopQualityWarning)]
    assert len(msgs) == 1 and "1e+22" in msgs[0] and "weak_curvature" in msgs[0]
    flags = res.flags.set_index("compute")
    assert flags.loc[1e22, "weak_curvature"] and not flags.loc[1e19:1e21, "flagged"].any()
    s = res.summary()
    assert s.loc["a", "lower"] < 0.45 < s.loc["a", "upper"]
    for c in (1e19, 1e20, 1e21):
        true = 1e9 * (c / 1e20) ** 0.45
        assert s.loc[f"N*[C={c:.3g}]", "lower"] < true < s.loc[f"N*[C={c:.3g}]", "upper"]


def test_plot_draws_curves_per_budget():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = bs.testing.pinned_isoflops().plot()
    assert ax.get_xscale() == "log" and len(ax.lines) >= 3
    plt.close(fig)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("experiment", "published", "tol"),
    [
        ("epochai_chinchilla__massivetext__chinchilla", 0.49, 0.1),
        ("llama_3__raw_loss", 0.4632, 0.1),
    ],
)
def test_real_isoflops_near_published(experiment, published, tol):
    df = bs.load_dataset("isoflops_openathena")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IsoflopQualityWarning)
        res = fit_isoflops(df[df.experiment == experiment], random_seed=0)
    assert abs(float(res.posterior["a"].median()) - published) < tol


def test_p_greater_matches_all_pairs():
    from bayescale.isoflops import _p_greater

    rng = np.random.default_rng(0)
    x, y = rng.normal(0.1, 1, 300), rng.normal(0, 1, 200)
    y[:5] = x[:5]  # ties count half
    brute = np.mean((x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :]))
    assert _p_greater(x, y) == pytest.approx(brute, rel=1e-12)


def test_compare_approaches_with_given_fits():
    a2 = bs.testing.pinned_isoflops(random_seed=0)
    a3 = bs.testing.pinned_fit(random_seed=0)
    t = bs.compare_approaches(None, compute=[1e21, 1e23], approach2=a2, approach3=a3)
    assert isinstance(t, pd.DataFrame)
    assert t.index.tolist() == [
        "a",
        "b",
        "N*[C=1e+21]",
        "N*[C=1e+23]",
        "D*[C=1e+21]",
        "D*[C=1e+23]",
    ]
    a3_draws = a3.posterior["a"].to_numpy().ravel()
    assert t.loc["a", "approach3_median"] == pytest.approx(np.median(a3_draws))
    opt = bs.compute_optimal(a3, compute=1e23)
    assert t.loc["N*[C=1e+23]", "approach3_median"] == pytest.approx(float(opt["N_opt"].median()))
    # a2 = 0.49 < a3 ≈ 0.513 so b2 > b3; the two probabilities are complementary
    assert t.loc["a", "P(2 > 3)"] < 0.05 and t.loc["b", "P(2 > 3)"] > 0.95
    assert t.loc["a", "P(2 > 3)"] + t.loc["b", "P(2 > 3)"] == pytest.approx(1.0)
    assert (t["approach2_lower"] <= t["approach2_median"]).all()
    assert (t["approach3_median"] <= t["approach3_upper"]).all()


def test_compare_approaches_bad_input():
    with pytest.raises(ValueError, match="needs runs"):
        bs.compare_approaches(None, compute=1e21)
    with pytest.raises(ValueError, match="compute"):
        bs.compare_approaches(None, compute=0.0)
    with pytest.raises(ValueError, match="ci_prob"):
        bs.compare_approaches(None, compute=1e21, ci_prob=1.5)


@pytest.mark.slow
def test_compare_approaches_fits_both():
    runs = bs.testing.simulate_chinchilla(120, random_seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = bs.compare_approaches(runs, compute=1e22, random_seed=0, draws=300, tune=300)
    assert t.loc["a", "approach2_lower"] < t.loc["a", "approach2_upper"]


def test_duplicate_is_same_size_and_loss_even_if_tokens_differ():
    from bayescale.isoflops import _data_flags

    runs = isoflop_runs(budgets=(1e20,))
    copy = runs.iloc[[3]].assign(D=runs.D.iloc[3] * 1.001)  # budget snapped: tokens differ
    assert _data_flags(pd.concat([runs, copy]), np.array([1e20]))["exact_duplicate"].all()
    other = runs.iloc[[3]].assign(loss=runs.loss.iloc[3] + 1e-6)
    assert not _data_flags(pd.concat([runs, other]), np.array([1e20]))["exact_duplicate"].any()
