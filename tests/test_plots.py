"""Every plot renders on a fitted fixture, with units, log axes, legends and visible bands."""

from __future__ import annotations

import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import FillBetweenPolyCollection, PolyCollection

import bayescale as bs
from bayescale import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bands(ax) -> list:
    return [
        c
        for c in ax.collections
        if isinstance(c, PolyCollection | FillBetweenPolyCollection) and c.get_alpha()
    ]


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_every_public_plot_takes_keyword_only_arguments_after_the_first():
    for name in plots.__all__:
        params = list(inspect.signature(getattr(plots, name)).parameters.values())
        assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        loose = [p.name for p in params[1:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        assert not loose, f"{name}: {loose} should be keyword-only"
        assert "ax" in {p.name for p in params}, f"{name} takes no ax="


def test_plot_fit_draws_curves_bands_and_held_out_runs(pinned):
    holdout = bs.testing.simulate_chinchilla(n=30, random_seed=11).nlargest(4, "C")
    _fig, ax = plots.plot_fit(pinned, holdout=holdout, groups=4)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "parameters N"
    assert ax.get_ylabel() == "loss (nats/token)"
    assert len(_bands(ax)) == 2 * 4  # credible + predictive per curve
    labels = _legend_texts(ax)
    assert sum(lab.startswith("D ≈") and lab.endswith("tokens") for lab in labels) == 4
    assert "held-out runs (4)" in labels
    assert any("credible" in lab for lab in labels) and any("predictive" in lab for lab in labels)
    held = [
        c
        for c in ax.collections
        if c.get_paths()
        and c.get_offsets().shape[0]
        and tuple(c.get_facecolor()[0][:3]) == (1.0, 1.0, 1.0)
    ]
    assert sum(len(c.get_offsets()) for c in held) == 4
    # each curve is the posterior mean of predict_loss(kind="mean") along N at its D value
    log_d = np.log(pd.concat([pinned.data["D"], holdout["D"]]).to_numpy(dtype=float))
    centres = np.exp(np.linspace(*np.quantile(log_d, [0.08, 0.92]), 4))
    curves = [line for line in ax.lines if line.get_label().startswith("D ≈")]
    assert len(curves) == 4
    for line, centre in zip(curves, centres, strict=True):
        n = np.asarray(line.get_xdata(), dtype=float)
        ref = bs.predict_loss(pinned, kind="mean", N=n, D=np.full(n.size, centre))
        np.testing.assert_allclose(line.get_ydata(), ref.mean(("chain", "draw")), rtol=1e-9)


def test_plot_fit_other_axis_and_given_axes(pinned):
    fig, given = plt.subplots()
    out_fig, ax = plots.plot_fit(pinned, x="D", by="N", predictive=False, ax=given)
    assert out_fig is fig and ax is given
    assert ax.get_xlabel() == "training tokens D"
    assert len(_bands(ax)) == 5
    with pytest.raises(ValueError, match="x must be one of"):
        plots.plot_fit(pinned, x="C")


def test_plot_residuals(pinned):
    _fig, axes = plots.plot_residuals(pinned)
    assert [a.get_xscale() for a in axes] == ["log", "log"]
    assert all("residual" in a.get_ylabel() for a in axes)
    assert [p.get_alpha() for p in axes[0].patches] == [0.15]  # the noise band
    assert any("interval of the noise" in t for t in _legend_texts(axes[0]))
    _fig, ax = plots.plot_residuals(pinned, x="fitted")
    assert ax.get_xlabel() == "fitted loss (nats/token)"
    # residual = log observed − posterior mean of the log of predict_loss(kind="mean")
    runs = pinned.data
    mean = bs.predict_loss(pinned, kind="mean", N=runs["N"].to_numpy(), D=runs["D"].to_numpy())
    expected = np.log(runs["loss"].to_numpy()) - np.log(mean).mean(("chain", "draw")).to_numpy()
    points = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    assert len(points) == len(runs)
    np.testing.assert_allclose(np.sort(points[:, 1]), np.sort(expected), rtol=1e-9, atol=1e-12)


def test_plot_residuals_of_proportions_without_noise_parameters():
    fit = bs.emergence.pinned_emergence_fit(random_seed=0)  # binomial: no noise parameters
    assert fit.likelihood.output_domain == "unit"
    _fig, axes = plots.plot_residuals(fit)
    (ax,) = axes
    assert ax.get_xscale() == "log" and ax.get_ylabel().startswith("residual of accuracy")
    assert not ax.patches  # no noise band
    offsets = ax.collections[0].get_offsets()
    obs = fit.data["accuracy"].to_numpy()
    assert np.isfinite(offsets[:, 1]).all() and len(offsets) == len(obs)
    # accuracy 0 is a fine observation: the residual of the proportion is −(posterior mean)
    mean = bs.predict_loss(fit, kind="mean", C=fit.data["C"].to_numpy()).mean(("chain", "draw"))
    np.testing.assert_allclose(offsets[:, 1], obs - mean.to_numpy(), rtol=1e-9, atol=1e-12)
    _fig, ax = plots.plot_residuals(fit, x="fitted")
    assert ax.get_xlabel() == "fitted accuracy" and ax.get_xscale() == "linear"


def test_plot_fit_and_params_on_an_accuracy_fit():
    fit = bs.emergence.pinned_emergence_fit(random_seed=0)  # needs n_items for predictive draws
    _fig, ax = plots.plot_fit(fit)
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == _label_of("accuracy")
    _fig, axes = plots.plot_params(fit)  # the floor is fixed: no density, one line
    floor = [a for a in axes if a.get_title().startswith("floor")]
    assert floor and floor[0].get_title().endswith("(fixed)")


def _label_of(name):
    return plots._label(name)


def test_plot_frontier(pinned):
    fig, axes = plots.plot_frontier(pinned, compute=np.logspace(19, 26, 15))
    assert len(axes) == 4
    assert axes[0].get_ylabel() == "compute-optimal parameters N*"
    assert axes[1].get_ylabel() == "compute-optimal training tokens D*"
    assert axes[2].get_xlabel() == "training compute C (FLOPs)"
    assert all(a.get_xscale() == "log" for a in axes)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]  # below the panels
    assert "hoffmann2022 (point estimate)" in labels and "besiroglu2024 (point estimate)" in labels
    assert len(_bands(axes[0])) >= 1
    C = np.logspace(19, 26, 15)
    opt = bs.compute_optimal(pinned, C)
    assert axes[0].lines[0].get_label() == "posterior median"
    np.testing.assert_allclose(
        axes[0].lines[0].get_ydata(), opt["N_opt"].median(("chain", "draw")), rtol=1e-12
    )
    np.testing.assert_allclose(
        axes[1].lines[0].get_ydata(), opt["D_opt"].median(("chain", "draw")), rtol=1e-12
    )
    card = bs.load_card("hoffmann2022")
    point = bs.get_law(card.law).optimum(np, card.params, C)
    (hoff,) = [ln for ln in axes[0].lines if ln.get_label().startswith("hoffmann2022")]
    np.testing.assert_allclose(hoff.get_ydata(), point["N"], rtol=1e-12)
    _fig, given = plt.subplots(1, 2)
    _, axes = plots.plot_frontier(pinned, relative=False, cards=["hoffmann2022"], ax=given)
    assert list(axes) == list(given)


def test_plot_tokens_per_param_unchanged(pinned):
    C = [1e20, 1e22, 1e24]
    _fig, ax = plots.plot_tokens_per_param(pinned, compute=C)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "training compute C (FLOPs)"
    assert len(_bands(ax)) == 1
    median = bs.compute_optimal(pinned, C)["tokens_per_param"].median(("chain", "draw"))
    assert ax.lines[0].get_label().endswith("posterior median")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), median, rtol=1e-12)
    (card,) = [ln for ln in ax.lines if ln.get_label() == "hoffmann2022 point estimate"]
    params = bs.load_card("hoffmann2022").params
    point = bs.get_law("chinchilla").optimum(np, params, np.asarray(C))
    np.testing.assert_allclose(card.get_ydata(), point["D"] / point["N"], rtol=1e-12)


def test_card_lines_for_a_law_without_a_closed_form_optimum():
    """A card of a law with no closed-form optimum is drawn (numerically), not dropped."""
    card = bs.load_card("muennighoff2023")
    assert bs.get_law(card.law).optimum is None
    C = np.array([1e21, 1e23])
    point = plots._card_optimum(card, C, {"U": 1e11})
    assert point is not None and np.all(np.isfinite(point["N"]))
    np.testing.assert_allclose(6 * point["N"] * point["D"], C, rtol=1e-9)
    assert plots._card_optimum(card, C, {}) is None  # U not given: cannot be drawn
    assert plots._card_optimum(bs.load_card("zhai2022"), C, {}) is None  # no N and D


def test_plot_emergence_from_arrays_and_dataarray():
    C = np.logspace(20, 24, 25)
    rng = np.random.default_rng(0)
    mid = rng.normal(22, 0.2, size=(2, 50, 1))
    acc = 0.25 + 0.7 / (1 + np.exp(-3 * (np.log10(C) - mid)))
    da = xr.DataArray(acc, dims=("chain", "draw", "C"))
    obs = (np.logspace(20.5, 23.5, 6), np.linspace(0.26, 0.9, 6))
    _fig, ax = plots.plot_emergence(C, accuracy=da, observed=obs, threshold=10**mid, chance=0.25)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "training compute C (FLOPs)" and ax.get_ylabel() == "accuracy"
    labels = _legend_texts(ax)
    assert any(lab.startswith("threshold: median") for lab in labels)
    assert "observed (6)" in labels
    with pytest.raises(ValueError, match="last axis of length 25"):
        plots.plot_emergence(C, accuracy=acc[..., :10])


def test_plot_emergence_counts_never_reached_threshold_draws():
    fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    C = np.logspace(20, 25, 30)
    acc = bs.predict_accuracy(fit, C=C).transpose("chain", "draw", "point")
    thr = bs.emergence_threshold(fit, level=0.9)  # ceiling 0.9: about half never reach it
    summary = bs.emergence.threshold_summary(thr, ci_prob=0.8)
    assert 0.5 < summary["p_never_reached"] < 0.6 and summary["median"] == np.inf
    _fig, ax = plots.plot_emergence(C, accuracy=acc, threshold=thr["threshold"].to_numpy())
    (label,) = [lab for lab in _legend_texts(ax) if lab.startswith("threshold")]
    assert "median not reached" in label and "52%" in label
    assert not any(len(ln.get_xdata()) for ln in ax.lines if ln.get_linestyle() == "--")
    (hist,) = [p for p in ax.patches if p.get_alpha() == 0.5]  # finite draws only
    assert np.isfinite(hist.get_path().vertices).all()
    # a level reached by most draws: the median and bounds are threshold_summary's
    thr = bs.emergence_threshold(fit, level=0.895)  # about 29% never reach it
    summary = bs.emergence.threshold_summary(thr)
    assert 0.2 < summary["p_never_reached"] < 0.5 and summary["hi"] == np.inf
    t = thr["threshold"].to_numpy()
    assert summary["median"] > np.median(t[np.isfinite(t)])  # dropping them biases it low
    _fig, ax = plots.plot_emergence(C, accuracy=acc, threshold=t)
    (label,) = [lab for lab in _legend_texts(ax) if lab.startswith("threshold")]
    number = bs.display.number
    assert label.startswith(f"threshold: median {number(summary['median'])} [95%: ")
    assert f"{number(summary['lo'])}, ∞]" in label
    assert f"never reached in {summary['p_never_reached']:.0%}" in label
    (line,) = [ln for ln in ax.lines if ln.get_label() == label]
    assert line.get_xdata()[0] == pytest.approx(summary["median"], rel=1e-12)


def test_plot_backtest_tables(pinned):
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=5).nlargest(8, "C")
    pred = bs.predict_loss(pinned, N=runs.N.values, D=runs.D.values, kind="predictive")
    q = pred.quantile([0.05, 0.5, 0.95], dim=("chain", "draw")).to_numpy()
    table = pd.DataFrame(
        {"observed": runs.loss.values, "median": q[1], "lo": q[0], "hi": q[2], "N": runs.N.values}
    )
    _fig, (ax, _cov) = plots.plot_backtest(table)
    assert ax.get_xlabel() == "observed loss (nats/token)"
    assert any("of 8" in t for t in _legend_texts(ax))
    _fig, (ax, _cov) = plots.plot_backtest(table, x="N")
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "parameters N"
    # the layout of bayescale.backtest's table: lo90/hi90 columns, read through .table
    result = type("R", (), {"table": table.rename(columns={"lo": "lo90", "hi": "hi90"})})()
    _fig, (ax, _cov) = plots.plot_backtest(result, ci_prob=0.9)
    assert any("90% interval" in t and "of 8" in t for t in _legend_texts(ax))
    with pytest.raises(ValueError, match="missing columns"):
        plots.plot_backtest(table.drop(columns="hi"))


def test_plot_backtest_reads_the_table_backtest_writes(pinned):
    from bayescale.validation import DEFAULT_PROBS, _score

    runs = bs.testing.simulate_chinchilla(n=40, random_seed=5).nlargest(8, "C")
    pred = bs.predict_loss(pinned, N=runs.N.values, D=runs.D.values, kind="predictive")
    draws = pred.transpose("chain", "draw", "point").to_numpy().reshape(-1, len(runs))
    observed = runs.loss.to_numpy(dtype=float).copy()
    observed[0] = 10.0  # far outside every interval
    table = pd.DataFrame({"C": runs.C.values, **_score(draws, observed, DEFAULT_PROBS)})
    assert {"lo50", "lo80", "lo95", "inside95"} <= set(table.columns)
    assert "lo90" not in table.columns
    table.loc[1, "inside95"] = False  # the plot reads the flags rather than recomputing them
    n_in = int(table["inside95"].sum())
    assert n_in == 6
    result = type("R", (), {"table": table})()
    _fig, (ax, _cov) = plots.plot_backtest(result)  # default: the widest interval, 95%
    labels = _legend_texts(ax)
    assert f"prediction, inside the 95% interval ({n_in} of 8)" in labels
    assert "prediction, outside (2)" in labels
    assert len(labels) == 3  # inside, outside, identity line
    inside = [c for c in ax.containers if c.get_label().startswith("prediction, inside")]
    assert len(inside[0].lines[0].get_xdata()) == n_in
    assert ax.get_title() == "Backtest: held-out runs against 95% predictive intervals"
    _fig, (ax, _cov) = plots.plot_backtest(table, x="C", ci_prob=0.5)
    expected = int(table["inside50"].sum())
    assert any(f"50% interval ({expected} of 8)" in t for t in _legend_texts(ax))


def test_plot_params(pinned):
    fig, axes = plots.plot_params(pinned)
    assert len(axes) == 5
    assert [a.get_xlabel().split(":")[0] for a in axes] == ["A", "B", "E", "alpha", "beta"]
    assert all(len(_bands(a)) == 1 for a in axes)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"hoffmann2022", "besiroglu2024", "posterior"} <= set(texts)
    _fig, given = plt.subplots(1, 2)
    _, axes = plots.plot_params(pinned, var_names=["alpha", "beta"], cards=[], ax=given)
    assert list(axes) == list(given)
    with pytest.raises(KeyError, match="not in the posterior"):
        plots.plot_params(pinned, var_names=["zeta"])


def test_plots_render_on_a_sampled_fit(small_fit, tmp_path):
    for name, call in {
        "fit": lambda: plots.plot_fit(small_fit),
        "residuals": lambda: plots.plot_residuals(small_fit),
        "frontier": lambda: plots.plot_frontier(small_fit),
        "params": lambda: plots.plot_params(small_fit),
        "tokens_per_param": lambda: plots.plot_tokens_per_param(small_fit),
    }.items():
        fig, _ = call()
        fig.savefig(tmp_path / f"{name}.png", dpi=60)
        assert (tmp_path / f"{name}.png").stat().st_size > 5000


def test_plot_backtest_colours_cutoffs_and_draws_coverage(pinned):
    rng = np.random.default_rng(0)
    rows = []
    for cutoff in (1e20, 1e21):
        for c in np.logspace(np.log10(cutoff) + 0.2, 22, 5):
            med = 2.0 + rng.normal(0, 0.01)
            obs = med + rng.normal(0, 0.05)
            rows.append(
                {"cutoff": cutoff, "C": c, "observed": obs, "median": med,
                 "lo50": med - 0.02, "hi50": med + 0.02, "lo95": med - 0.06, "hi95": med + 0.06}
            )  # fmt: skip
    table = pd.DataFrame(rows)
    result = type("R", (), {"table": table, "split": "C"})()
    _fig, (ax, cov) = plots.plot_backtest(result, x="C")
    labels = _legend_texts(ax)
    assert "fit on C < 1e20: 5 held out" in labels and "fit on C < 1e21: 5 held out" in labels
    cut_lines = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert sorted(ln.get_xdata()[0] for ln in cut_lines) == [1e20, 1e21]
    assert cut_lines[0].get_color() != cut_lines[1].get_color()
    (pooled,) = [ln for ln in cov.lines if ln.get_label().startswith("all 10")]
    inside50 = ((table.observed >= table.lo50) & (table.observed <= table.hi50)).mean()
    np.testing.assert_allclose(pooled.get_xdata(), [0.5, 0.95])
    assert pooled.get_ydata()[0] == pytest.approx(inside50)
    _fig, one = plt.subplots()
    _fig, got = plots.plot_backtest(result, x="C", ax=one)  # one axes: no coverage panel
    assert got is one


def test_plot_isoflops_colours_runs_by_budget_and_draws_curves_along_c(pinned):
    C = [1e19, 1e20, 1e21]
    fig, ax = plots.plot_isoflops(pinned, compute=C, n_grid=30)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "parameters N"
    curves = [ln for ln in ax.lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) == 30]
    assert len(curves) == 3
    for line, c in zip(curves, C, strict=True):
        n = np.asarray(line.get_xdata(), dtype=float)
        ref = bs.predict_loss(pinned, kind="mean", N=n, D=c / (6 * n))
        expected = np.median(ref.to_numpy().reshape(-1, n.size), axis=0)
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-9)
    runs = [c for c in ax.collections if len(c.get_offsets()) == len(pinned.data)]
    assert len(runs) == 1 and runs[0].get_array() is not None  # coloured by C
    assert any("FLOPs" in a.get_ylabel() for a in fig.axes if a is not ax)  # colour bar
    with pytest.raises(ValueError, match="inputs N and D"):
        plots.plot_isoflops(bs.emergence.pinned_emergence_fit(random_seed=0))
