"""How well a fit meets its runs: ``plot_residuals`` (residuals of the log output against each
input, with the noise band) and ``plot_backtest`` (predictions above a cutoff against the runs,
coloured by cutoff, with the coverage-against-nominal panel).

Conventions as in :mod:`bayescale.plots` (which re-exports both).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._api import CI_PROB, deprecated_args
from ._plotting import (
    AXIS_LABELS,
    _axes,
    _band,
    _finish,
    _is_log,
    _label,
    _legend_below,
    _panels,
    _template,
)
from .analysis import noise_draws, predict_loss
from .fit import Fit
from .grouped import one_group

__all__ = ["plot_backtest", "plot_residuals"]


@deprecated_args(renamed={"prob": "ci_prob"})
@one_group
def plot_residuals(
    fit: Fit,
    *,
    x: str | None = None,
    ci_prob: float = CI_PROB,
    random_seed: int | None = None,
    ax: Any = None,
) -> tuple[Any, Any]:
    """Residuals of log loss (observed − posterior mean of the law) against each input.

    The shaded band is the central ``ci_prob`` interval of the fitted noise (the likelihood's draws
    around zero), so about ``1 − ci_prob`` of the runs should fall outside it; those runs are drawn
    in red. On a log scale a residual of 0.01 is a 1% deviation in loss.

    For a likelihood of proportions (``output_domain == "unit"``: accuracies, with the binomial,
    beta-binomial or beta likelihood) the residual is that of the proportion itself, observed −
    posterior mean of the expected accuracy, and no noise band is drawn (the spread of a
    proportion depends on its mean and on the number of items).

    Parameters
    ----------
    fit : Fit
    x : str, optional
        One input (or ``"fitted"`` for the fitted loss) to plot against; default one panel per
        input.
    ci_prob : float
        Probability mass of the noise band.
    random_seed : int, optional
        Seed of the noise draws behind the band (None: fresh entropy).
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per panel.

    Returns
    -------
    fig, axes
        ``axes`` is a single Axes when ``x`` is given, else an array with one per input.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_residuals
    >>> fig, axes = plot_residuals(bs.testing.pinned_fit(random_seed=0))
    >>> [a.get_xlabel() for a in axes]
    ['parameters N', 'training tokens D']
    """
    law = _template(fit, "plot_residuals").law
    choices = [*law.inputs, "fitted"]
    if x is not None and x not in choices:
        raise ValueError(f"x must be one of {choices}, got {x!r}")
    names = [x] if x is not None else list(law.inputs)
    if x is None and ax is not None and not np.iterable(ax):
        raise ValueError(f"plot_residuals draws {len(names)} panels; pass that many axes or x=")
    runs = fit.data
    inputs = {k: runs[k].to_numpy(dtype=float) for k in law.inputs}
    mean = predict_loss(fit, kind="mean", **inputs).to_numpy().reshape(-1, len(runs))
    observed = runs[law.output].to_numpy(dtype=float)
    proportion = _template(fit, "plot_residuals").likelihood.output_domain == "unit"
    if proportion:
        fitted = mean.mean(axis=0)
        resid = observed - fitted
        lo = hi = None
        outside = np.zeros(len(resid), dtype=bool)
    else:
        fitted = np.log(mean).mean(axis=0)
        resid = np.log(observed) - fitted
        eps = noise_draws(fit, random_seed=random_seed).to_numpy().ravel()
        lo, _, hi = _band(np.asarray(eps), ci_prob)
        outside = (resid < lo) | (resid > hi)
    if x is not None and ax is not None and not np.iterable(ax):
        ax = [ax]
    fig, axes = _panels(ax, len(names), 2, (4.6, 3.8))
    for name, a in zip(names, axes, strict=True):
        if proportion:
            xs = fitted if name == "fitted" else inputs[name]
        else:
            xs = np.exp(fitted) if name == "fitted" else inputs[name]
            a.axhspan(
                lo,
                hi,
                color="C0",
                alpha=0.15,
                lw=0,
                label=f"{100 * ci_prob:g}% interval of the noise",
            )
        a.axhline(0, color="0.3", lw=0.8)
        a.scatter(xs[~outside], resid[~outside], s=12, color="C0", lw=0, label="run")
        if not proportion:
            a.scatter(
                xs[outside],
                resid[outside],
                s=16,
                color="C3",
                lw=0,
                label=f"outside the band ({int(outside.sum())} of {len(resid)})",
            )
        if name != "fitted" or (not proportion and _is_log(xs)):
            a.set_xscale("log")
        if name == "fitted":
            a.set_xlabel(f"fitted {law.output}" if proportion else "fitted loss (nats/token)")
        else:
            a.set_xlabel(_label(name))
        a.set_ylabel(
            f"residual of {law.output} (observed − fitted)"
            if proportion
            else "residual of log loss (observed − fitted)"
        )
        a.grid(True, alpha=0.3)
    _legend_below(axes[0], ncols=1)
    fig.suptitle(f"{law.name}: residuals ({len(resid)} runs)", fontsize=10)
    _finish(*axes)
    return fig, (axes[0] if x is not None else axes)


@deprecated_args(renamed={"prob": "ci_prob"})
def plot_backtest(
    table: Any,
    *,
    x: str | None = None,
    ci_prob: float | None = None,
    coverage: bool = True,
    ax: Any = None,
    title: str | None = None,
) -> tuple[Any, Any]:
    """Held-out predictions against what was observed, coloured by cutoff, and their coverage.

    The left panel draws each held-out run's predictive median and central ``ci_prob`` interval,
    coloured by the cutoff of the fit that predicted it (filled: the observed loss fell inside
    the interval; open: outside), against the observed loss (with the identity line) or
    against the column ``x`` (with the observed losses as black dots and each cutoff as a
    dashed line in its colour). The right panel (``coverage=True``) shows the share of held-out
    runs inside each interval level of the table against the nominal level, per cutoff and
    pooled: points under the diagonal are intervals too narrow.

    Parameters
    ----------
    table : DataFrame or BacktestResult
        One row per held-out run with columns ``observed`` (the observed loss), ``median`` (the
        posterior predictive median) and the bounds of the central ``ci_prob`` predictive interval,
        named ``lo<pct>``/``hi<pct>`` (``lo90``/``hi90`` for ``ci_prob=0.9``, as
        :func:`bayescale.backtest` writes them) or ``lo``/``hi``, all in nats/token; optionally
        ``inside<pct>`` (or ``inside``, next to ``lo``/``hi``), read instead of recomputed,
        ``cutoff`` and the column named by ``x``. An object with a ``table`` attribute
        (:func:`bayescale.backtest`'s result) is read through that attribute.
    x : str, optional
        Column to plot against (e.g. ``"C"``, ``"N"``). Default: predicted against observed
        with the identity line.
    ci_prob : float, optional
        The probability of the intervals (picks ``lo<pct>``/``hi<pct>``; labels). Default: the
        widest ``lo<pct>``/``hi<pct>`` pair of the table, else ``lo``/``hi`` (whose probability
        is ``table.attrs["prob"]`` when recorded).
    coverage : bool
        Add the coverage-against-nominal panel (needs two axes when ``ax`` is given; a single
        Axes draws the left panel only).
    ax : matplotlib Axes or two Axes, optional
    title : str, optional

    Returns
    -------
    fig, axes
        ``axes`` is the pair (predictions, coverage) with the coverage panel, else one Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from bayescale.plots import plot_backtest
    >>> t = pd.DataFrame({"observed": [2.1, 2.0], "median": [2.12, 1.97], "lo": [2.05, 1.9],
    ...                   "hi": [2.2, 2.05], "C": [1e21, 1e23]})
    >>> fig, (ax, cov) = plot_backtest(t, x="C")
    >>> ax.get_xscale(), cov.get_xlabel()
    ('log', 'nominal level of the interval')
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    from .display import human

    split = getattr(table, "split", None)
    if not isinstance(table, pd.DataFrame) and hasattr(table, "table"):
        table = table.table
    split = split or table.attrs.get("split")
    if ci_prob is not None and not 0 < ci_prob < 1:
        raise ValueError(f"prob must be between 0 and 1, got {ci_prob!r}")
    cols = set(map(str, table.columns))
    pairs = {}  # probability -> suffix of the lo<pct>/hi<pct> pairs of the table
    for c in cols:
        suffix = c[2:]
        if c.startswith("lo") and f"hi{suffix}" in cols:
            try:
                value = float(suffix) / 100
            except ValueError:
                continue
            if 0 < value < 1:
                pairs[value] = suffix
    if ci_prob is None:
        if pairs:
            ci_prob = max(pairs)
            suffix = pairs[ci_prob]
        else:
            suffix = ""
            ci_prob = table.attrs.get("ci_prob")
    else:
        suffix = f"{100 * ci_prob:g}"
        if f"lo{suffix}" not in cols and "lo" in cols:
            suffix = ""  # unnamed bounds, taken to be the central ``ci_prob`` interval
    lo_col, hi_col = f"lo{suffix}", f"hi{suffix}"
    need = ["observed", "median", lo_col, hi_col] + ([x] if x is not None else [])
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"backtest table is missing columns {missing}; it needs {need}")
    obs = table["observed"].to_numpy(dtype=float)
    med = table["median"].to_numpy(dtype=float)
    lo = table[lo_col].to_numpy(dtype=float)
    hi = table[hi_col].to_numpy(dtype=float)

    def inside_of(p_suffix: str) -> np.ndarray:
        flag = f"inside{p_suffix}"
        if flag in table.columns:
            return table[flag].to_numpy(dtype=bool)
        lo_p = table[f"lo{p_suffix}"].to_numpy(dtype=float)
        hi_p = table[f"hi{p_suffix}"].to_numpy(dtype=float)
        return (obs >= lo_p) & (obs <= hi_p)

    inside = inside_of(suffix)
    if ax is not None and not np.iterable(ax):
        coverage = False
    if coverage:
        if ax is None:
            fig, pair = plt.subplots(
                1, 2, figsize=(10.4, 4.8), layout="constrained", width_ratios=[2.2, 1.0]
            )
        else:
            fig, pair = _panels(ax, 2, 2, (5.0, 4.4))
        ax, cov_ax = pair[0], pair[1]
    else:
        fig, ax = _axes(ax)
        cov_ax = None
    if "cutoff" in table.columns:
        cut = table["cutoff"].to_numpy(dtype=float)
    else:
        cut = np.full(len(obs), np.nan)
    cutoffs = sorted({c for c in cut if np.isfinite(c)})
    palette = plt.get_cmap("plasma")
    colours = {c: palette(0.1 + 0.7 * i / max(len(cutoffs) - 1, 1)) for i, c in enumerate(cutoffs)}
    groups = [(c, cut == c, colours[c]) for c in cutoffs] or [(None, np.ones(len(obs), bool), "C0")]
    xs = obs if x is None else table[x].to_numpy(dtype=float)
    pct = f"{100 * ci_prob:g}% " if ci_prob is not None else ""
    handles = []
    log_x = x is not None and (x in AXIS_LABELS or _is_log(xs))
    for k, (c, sel, colour) in enumerate(groups):
        # runs predicted by several cutoffs sit side by side (a small shift along a log x)
        shift = 10 ** (0.02 * (k - (len(groups) - 1) / 2)) if log_x and len(groups) > 1 else 1.0
        for flag, filled in ((inside, True), (~inside, False)):
            part = sel & flag
            if not part.any():
                continue
            ax.errorbar(
                xs[part] * shift,
                med[part],
                yerr=[med[part] - lo[part], hi[part] - med[part]],
                fmt="o" if x is None else "s",
                ms=5,
                mfc=colour if filled else "white",
                mec=colour,
                color=colour,
                elinewidth=1.1,
                capsize=2.5,
                zorder=3,
                label=f"prediction, {'inside the ' + pct + 'interval' if filled else 'outside'}",
            )
        if c is not None:
            what = human(c, split, unit=False) if split else human(c)
            rule = f"{split} < {what}" if split else f"cutoff {what}"
            handles.append(
                Line2D(
                    [], [], marker="s", ls="", color=colour, ms=6,
                    label=f"fit on {rule}: {int(sel.sum())} held out",
                )
            )  # fmt: skip
        if c is not None and x is not None and (split is None or split == x):
            ax.axvline(c, color=colour, lw=1.2, ls="--", zorder=1)
    n_in = int(inside.sum())
    handles += [
        Line2D([], [], marker="o", ls="", mfc="0.4", mec="0.4", ms=5,
               label=f"prediction, inside the {pct}interval ({n_in} of {len(obs)})"),
        Line2D([], [], marker="o", ls="", mfc="white", mec="0.4", ms=5,
               label=f"prediction, outside ({len(obs) - n_in})"),
    ]  # fmt: skip
    if x is None:
        span = np.array([min(obs.min(), lo.min()), max(obs.max(), hi.max())])
        pad = 0.03 * (span[1] - span[0] or 1.0)
        (line,) = ax.plot(
            span + np.array([-pad, pad]),
            span + np.array([-pad, pad]),
            color="0.4",
            lw=1,
            ls="--",
            label="predicted = observed",
        )
        handles.append(line)
        ax.set_xlabel("observed loss (nats/token)")
        ax.set_ylabel("predicted loss (nats/token), median and interval")
        if _is_log(np.concatenate([obs, lo, hi])):
            ax.set_xscale("log")
            ax.set_yscale("log")
    else:
        ax.scatter(xs, obs, s=16, color="k", zorder=4, label="observed")
        handles.append(Line2D([], [], marker="o", ls="", color="k", ms=4, label="observed"))
        if cutoffs and (split is None or split == x):
            handles.append(Line2D([], [], color="0.4", ls="--", lw=1.2, label="cutoff"))
        if x in AXIS_LABELS or _is_log(xs):
            ax.set_xscale("log")
            # room for the side-by-side markers and caps of the first and last runs (a run at
            # a cutoff sits on the left edge otherwise)
            ends = np.concatenate([xs[np.isfinite(xs) & (xs > 0)], cutoffs])
            if ends.size:
                span = np.log10(ends.max() / ends.min())
                pad = 10 ** (0.06 * span + 0.05 * max(len(groups), 1))
                ax.set_xlim(ends.min() / pad, ends.max() * pad)
        ax.set_xlabel(_label(x))
        ax.set_ylabel("loss (nats/token)")
    ax.set_title(title or f"Backtest: held-out runs against {pct}predictive intervals", fontsize=10)
    ax.grid(True, alpha=0.3)
    _legend_below(ax, handles, ncols=1 if coverage else 2)
    if cov_ax is not None:
        levels = sorted(pairs) if pairs else ([ci_prob] if ci_prob is not None else [])
        suffixes = [pairs[p] for p in levels] if pairs else [suffix]
        if levels:
            flags = [inside_of(sfx) for sfx in suffixes]
            for _c, sel, colour in groups if cutoffs else []:
                cov_ax.plot(
                    levels, [f[sel].mean() for f in flags], "o-", color=colour, lw=1, ms=4,
                    alpha=0.8,
                )  # fmt: skip
            cov_ax.plot(
                levels, [f.mean() for f in flags], "D-", color="k", lw=1.6, ms=5,
                label=f"all {len(obs)} held-out runs", zorder=3,
            )  # fmt: skip
        cov_ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="nominal (calibrated)")
        cov_ax.fill_between([0, 1], [0, 0], [0, 1], color="C3", alpha=0.06, lw=0)
        cov_ax.text(0.62, 0.1, "too narrow", color="C3", fontsize=9, transform=cov_ax.transAxes)
        cov_ax.set_xlim(0, 1)
        cov_ax.set_ylim(0, 1.02)
        cov_ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        cov_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        cov_ax.set_xlabel("nominal level of the interval")
        cov_ax.set_ylabel("held-out runs inside the interval")
        cov_ax.set_title("Coverage against nominal", fontsize=10)
        cov_ax.grid(True, alpha=0.3)
        if cutoffs:
            cov_ax.plot([], [], "o-", color="0.5", lw=1, ms=4, label="one cutoff (colours)")
        _legend_below(cov_ax, ncols=1)
    _finish(ax)
    return (fig, np.array([ax, cov_ax], dtype=object)) if coverage else (fig, ax)
