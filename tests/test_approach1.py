"""Approach 1 (training-curve envelope): brute-force envelope, recovery of a simulated law's
exponent with calibrated intervals, and its place in compare_approaches."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.approach1 import HOFFMANN_LAW, _crossings, _curves, simulate_training_curves

H = HOFFMANN_LAW
A_TRUE = H["beta"] / (H["alpha"] + H["beta"])  # N_opt ∝ C^(β/(α+β))
G = (H["alpha"] * H["A"] / (H["beta"] * H["B"])) ** (1 / (H["alpha"] + H["beta"]))


def n_opt_true(c):
    return G * (c / 6.0) ** A_TRUE


def tiny_runs() -> pd.DataFrame:
    # three runs by hand: a small model (two learning rates) and a large one
    return pd.DataFrame(
        {
            "N": [1e8, 1e8, 1e8, 1e8, 1e8, 4e8, 4e8, 4e8],
            "D": [1e9, 2e9, 4e9, 1e9, 4e9, 5e8, 1e9, 2e9],
            "loss": [4.0, 3.6, 3.3, 4.1, 3.2, 4.3, 3.5, 3.0],
            "lr": ["lo", "lo", "lo", "hi", "hi", "lo", "lo", "lo"],
            "size": ["s", "s", "s", "s", "s", "l", "l", "l"],
        }
    )


def brute_envelope(runs: pd.DataFrame, grid: np.ndarray) -> list[tuple[float, float]]:
    """Loops: each run's loss at C by straight lines in (log C, log loss), minimum over runs."""
    out = []
    for c in grid:
        best = (np.inf, np.nan)
        for _, run in runs.groupby(["size", "lr"]):
            run = run.sort_values("D")
            cs = (6 * run["N"] * run["D"]).to_list()
            ls = run["loss"].to_list()
            for k in range(len(cs) - 1):
                if cs[k] <= c <= cs[k + 1]:
                    t = (np.log(c) - np.log(cs[k])) / (np.log(cs[k + 1]) - np.log(cs[k]))
                    loss = float(np.exp((1 - t) * np.log(ls[k]) + t * np.log(ls[k + 1])))
                    if loss < best[0]:
                        best = (loss, float(run["N"].iloc[0]))
                    break
        if np.isfinite(best[0]):
            out.append(best)
    return out


def test_envelope_matches_brute_force():
    runs = tiny_runs()
    grid = np.geomspace(3e17, 5e19, 37)
    env = bs.training_envelope(runs, curve=["size", "lr"], compute=grid)
    want = brute_envelope(runs, grid)
    assert len(env) == len(want) == int(((grid >= 6e17) & (grid <= 4.8e18)).sum())
    np.testing.assert_allclose(env["loss"], [w[0] for w in want], rtol=1e-12)
    np.testing.assert_allclose(env["N"], [w[1] for w in want], rtol=0)
    np.testing.assert_allclose(env["D"], env["compute"] / (6 * env["N"]), rtol=1e-12)
    # a checkpoint itself is on its run's curve: at C = 6·1e8·4e9 the "hi" run's 3.2 wins
    at = bs.training_envelope(runs, curve=["size", "lr"], compute=[2.4e18])
    assert at["loss"].item() == pytest.approx(3.2, rel=1e-12)


def test_crossing_is_where_the_two_curves_meet():
    # two straight lines in (log C, log L) cross at a point solvable by hand
    runs = pd.DataFrame(
        {
            "N": [1e8, 1e8, 4e8, 4e8],
            "D": [1e9, 1e10, 2.5e8, 2.5e9],
            "loss": [4.0, 3.0, 4.4, 2.8],
            "run": ["a", "a", "b", "b"],
        }
    )
    df, _ = _curves(runs, "run")
    pts = _crossings(df, 500)
    # both runs span C = 6e17 ... 6e18; log L_a = log 4 + s_a·u, log L_b = log 4.4 + s_b·u,
    # u = log(C / 6e17) / log 10
    s_a, s_b = np.log(3.0 / 4.0), np.log(2.8 / 4.4)
    u = (np.log(4.4) - np.log(4.0)) / (s_a - s_b)
    assert len(pts) == 1
    assert pts["compute"].item() == pytest.approx(6e17 * 10**u, rel=1e-9)
    assert pts["N"].item() == pytest.approx(2e8, rel=1e-12)  # √(1e8·4e8)


def test_noise_free_curves_give_the_laws_exponent():
    runs = simulate_training_curves(run_sd=0.0, checkpoint_sd=0.0, checkpoints=200)
    res = bs.fit_approach1(runs, curve="run", random_seed=0)
    assert float(res.posterior["a"].median()) == pytest.approx(A_TRUE, abs=2e-4)
    n = float(res.n_opt(1e21).median())
    # a crossing sits at the geometric mean of the two sizes, where the Chinchilla profile's
    # optimum is only approximately (the profile in log N is not symmetric when α ≠ β)
    assert n == pytest.approx(n_opt_true(1e21), rel=0.05)


def test_intervals_cover_the_simulated_truth():
    a_hits = n_hits = 0
    medians = []
    for seed in range(40):
        res = bs.fit_approach1(simulate_training_curves(random_seed=seed), curve="run",
                               random_seed=seed, draws=1000, n_grid=400)  # fmt: skip
        s = res.summary(compute=1e21)
        a_hits += s.loc["a", "lower"] < A_TRUE < s.loc["a", "upper"]
        n_hits += s.loc["N*[C=1e+21]", "lower"] < n_opt_true(1e21) < s.loc["N*[C=1e+21]", "upper"]
        medians.append(s.loc["a", "median"])
    # 95% intervals: ≥ 33 of 40 (P(X ≤ 32) < 0.01 for Binomial(40, 0.95))
    assert a_hits >= 33 and n_hits >= 33
    assert np.mean(medians) == pytest.approx(A_TRUE, abs=0.015)


def test_result_is_seeded_and_consistent():
    runs = simulate_training_curves(random_seed=1)
    a = bs.fit_approach1(runs, curve="run", random_seed=3)
    b = bs.fit_approach1(runs, curve="run", random_seed=3)
    np.testing.assert_array_equal(a.posterior["a"], b.posterior["a"])
    p = a.posterior
    np.testing.assert_allclose(p["b"], 1 - p["a"])
    n, d = a.n_opt([1e20]), a.d_opt([1e20])
    np.testing.assert_allclose(6 * n * d, 1e20, rtol=1e-12)
    np.testing.assert_allclose(n.isel(compute=0), np.exp(p["log_k"] + p["a"] * np.log(1e20)))
    assert "Approach 1" in str(a) and "<pre>" in a._repr_html_()


def test_bad_input_is_named():
    runs = tiny_runs()
    with pytest.raises(ValueError, match="lack column"):
        bs.fit_approach1(runs.drop(columns="D"), curve="lr")
    with pytest.raises(ValueError, match="one model size"):
        bs.fit_approach1(runs, curve="lr")
    with pytest.raises(ValueError, match="repeat a run's tokens"):
        bs.fit_approach1(pd.concat([runs, runs.iloc[:1]]), curve=["size", "lr"])
    with pytest.raises(ValueError, match="at least 3"):
        bs.fit_approach1(runs, curve=["size", "lr"])
    bad = runs.copy()
    bad.loc[2, "loss"] = -1.0
    with pytest.raises(ValueError, match=r"rows \[2\]"):
        bs.fit_approach1(bad, curve=["size", "lr"])


def test_compare_approaches_with_approach1():
    a1 = bs.fit_approach1(simulate_training_curves(random_seed=0), curve="run", random_seed=0)
    a2 = bs.testing.pinned_isoflops(random_seed=0)
    a3 = bs.testing.pinned_fit(random_seed=0)
    t = bs.compare_approaches(None, compute=1e21, approach1=a1, approach2=a2, approach3=a3)
    assert [c for c in t.columns if c.startswith("P(")] == ["P(1 > 2)", "P(1 > 3)", "P(2 > 3)"]
    from bayescale.isoflops import _p_greater

    v1 = a1.n_opt(1e21).to_numpy().ravel()
    v3 = bs.compute_optimal(a3, 1e21)["N_opt"].to_numpy().ravel()
    assert t.loc["N*[C=1e+21]", "P(1 > 3)"] == pytest.approx(_p_greater(v1, v3))
    assert t.loc["a", "approach1_median"] == pytest.approx(float(a1.posterior["a"].median()))
    # two approaches are enough without runs; one is not
    t13 = bs.compare_approaches(None, compute=1e21, approach1=a1, approach3=a3)
    assert list(t13.columns)[-1] == "P(1 > 3)" and "approach2_median" not in t13
    with pytest.raises(ValueError, match="at least two"):
        bs.compare_approaches(None, compute=1e21, approach1=a1)


def test_real_misfitting_runs():
    runs = bs.load_dataset("misfitting_li2025", table="all_checkpoints")
    key = ["group", "peak_lr", "total_steps", "total_epochs", "sweep"]
    runs = runs.drop_duplicates([*key, "D", "loss"])
    runs = runs[~runs.duplicated([*key, "D"], keep=False)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bs.fit_approach1(runs, curve=key, random_seed=0, n_grid=500)
    s = res.summary()
    # the runs have 11 sizes; the envelope crosses between at least 4 pairs of them
    assert len(res.points) >= 4
    assert 0.3 < s.loc["a", "median"] < 0.8 and s.loc["a", "lower"] < s.loc["a", "upper"]


def test_isoflop_slices_agree_with_the_envelope_and_brute_force():
    runs = tiny_runs()
    grid = [8e17, 1.5e18, 3e18]
    cut = bs.isoflop_slices(runs, compute=grid, curve=["size", "lr"])
    want = brute_envelope(runs, np.array(grid))
    np.testing.assert_allclose(cut.groupby("C")["loss"].min(), [w[0] for w in want], rtol=1e-12)
    # at 1.5e18 the small model's two learning rates both span C: the better one is kept
    small = cut[(cut["C"] == 1.5e18) & (cut["N"] == 1e8)]["loss"].item()
    lo = brute_envelope(runs[runs["lr"] == "lo"], np.array([1.5e18]))[0][0]
    hi = brute_envelope(runs[(runs["lr"] == "hi")], np.array([1.5e18]))[0][0]
    assert small == pytest.approx(min(lo, hi), rel=1e-12) and lo != hi
    np.testing.assert_allclose(cut["D"], cut["C"] / (6 * cut["N"]), rtol=1e-12)


def test_plot_returns_figure_with_readable_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    res = bs.fit_approach1(simulate_training_curves(random_seed=0), curve="run", random_seed=0)
    fig, ax = res.plot()
    fig.canvas.draw()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert min(sizes) >= 9
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # the legend sits right of the data
    plt.close(fig)
    fig2, ax2 = plt.subplots()
    assert res.plot(ax=ax2)[1] is ax2
    plt.close(fig2)
