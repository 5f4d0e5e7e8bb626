"""The compute-optimal allocation: ``plot_frontier`` (N* and D* against compute, with the
published cards) and ``plot_tokens_per_param`` (D*/N* against compute).

Conventions as in :mod:`bayescale.plots` (which re-exports both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._api import CI_PROB, check_ci_prob, check_values, deprecated_args
from ._plotting import (
    _CARD_COLORS,
    _CARD_STYLES,
    _axes,
    _band,
    _card_optimum,
    _cards_for,
    _draws,
    _finish,
    _label,
    _law_names,
    _legend_below,
    _panels,
)
from .analysis import FLOPS_PER_PARAM_TOKEN, compute_optimal
from .cards import Card
from .fit import Fit
from .grouped import one_group

__all__ = ["plot_frontier", "plot_tokens_per_param"]


# ---------------------------------------------------------------------------- decisions
@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
@one_group
def plot_frontier(
    fit: Fit,
    *,
    compute: Sequence[float] | None = None,
    ci_prob: float = CI_PROB,
    cards: Sequence[str | Card] | None = None,
    relative: bool = True,
    show_data_range: bool = True,
    ax: Any = None,
    color: str = "C0",
    fixed: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Compute-optimal model size N*(C) and token count D*(C), with posterior bands.

    One column per quantity. The top row draws the posterior median and the central ``ci_prob``
    interval over ``compute`` on log-log axes, the published fits of the same law (``cards``) as
    point-estimate lines, and shades the compute range of the fitted runs (C = 6ND) so that
    extrapolation is visible. With ``relative=True`` a second row shows the same curves divided
    by the posterior median, where the width of the band (invisible across many decades) can be
    read off directly.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fit of a law with N and D inputs.
    compute : sequence of float, optional
        FLOP budgets (default: 1e18 to 1e27, log-spaced).
    ci_prob : float
        Probability mass of the band.
    cards : sequence of str or Card, optional
        Reference cards (names or loaded cards) to overlay (default: every card of the fit's
        law); each is drawn from its point values (closed form, or numerically for a law
        without one, with ``fixed``). Cards that cannot give an optimum are skipped.
    relative : bool
        Add the row relative to the posterior median.
    show_data_range : bool
        Shade the compute range of the fitted runs.
    ax : sequence of matplotlib Axes, optional
        Two axes (N*, D*), or four (N*, D*, N* relative, D* relative) when ``relative``.
    color : str
        Colour of the posterior curves.
    fixed : mapping, optional
        The law's inputs other than N and D, held fixed along C = 6ND (e.g. ``{"U": 25e9}``
        for ``data_constrained``); passed to :func:`~bayescale.compute_optimal`.

    Returns
    -------
    fig, axes
        The N* and D* axes, then the relative ones.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_frontier
    >>> fig, axes = plot_frontier(bs.testing.pinned_fit(random_seed=0))
    >>> [a.get_ylabel() for a in axes[:2]]
    ['compute-optimal parameters N*', 'compute-optimal training tokens D*']
    """
    import matplotlib.pyplot as plt

    ci_prob = check_ci_prob(ci_prob)
    C = np.logspace(18, 27, 46) if compute is None else check_values("compute", compute)
    opt = compute_optimal(fit, C, fixed=fixed)
    n_axes = 4 if relative else 2
    if ax is None:
        fig, grid = plt.subplots(
            n_axes // 2,
            2,
            figsize=(10.0, 6.4 if relative else 4.2),
            layout="constrained",
            sharex="col",
            squeeze=False,
            gridspec_kw={"height_ratios": [2.2, 1.0] if relative else [1.0]},
        )
        axes = grid.ravel()
    else:
        fig, axes = _panels(ax, n_axes, 2, (4.8, 4.0))
    card_points = [
        (card, point)
        for card in _cards_for(_law_names(fit), cards)
        if (point := _card_optimum(card, C, fixed)) is not None
    ]
    runs_c = (
        FLOPS_PER_PARAM_TOKEN
        * fit.data["N"].to_numpy(dtype=float)
        * fit.data["D"].to_numpy(dtype=float)
    )
    pct = f"{100 * ci_prob:g}%"
    for col, (var, key, ylabel) in enumerate(
        (
            ("N_opt", "N", "compute-optimal parameters N*"),
            ("D_opt", "D", "compute-optimal training tokens D*"),
        )
    ):
        samples = opt[var].transpose("chain", "draw", "compute").to_numpy().reshape(-1, len(C))
        lo, mid, hi = _band(samples, ci_prob)
        panels = [(axes[col], 1.0)]
        if relative:
            panels.append((axes[2 + col], mid))
        for a, scale in panels:
            a.fill_between(
                C, lo / scale, hi / scale, color=color, alpha=0.3, lw=0, label=f"{pct} interval"
            )
            a.plot(C, mid / scale, color=color, lw=2, label="posterior median")
            for i, (card, point) in enumerate(card_points):
                a.plot(
                    C,
                    np.asarray(point[key]) / scale,
                    _CARD_STYLES[i % len(_CARD_STYLES)],
                    color=_CARD_COLORS[i % len(_CARD_COLORS)],
                    lw=1.4,
                    label=f"{card.name} (point estimate)",
                )
            if show_data_range:
                a.axvspan(
                    runs_c.min(),
                    runs_c.max(),
                    color="0.85",
                    alpha=0.6,
                    lw=0,
                    zorder=0,
                    label="compute range of the fitted runs",
                )
            a.set_xscale("log")
            a.set_yscale("log")
            a.grid(True, which="major", alpha=0.3)
        axes[col].set_ylabel(ylabel)
        axes[col].set_title(f"{key}*(C): median and {pct} interval", fontsize=9)
        (axes[2 + col] if relative else axes[col]).set_xlabel(_label("C"))
        if relative:
            r = axes[2 + col]
            r.set_ylabel(f"{key}* / posterior median")
            finite = np.concatenate([lo / mid, hi / mid])
            span = max(float(np.abs(np.log(finite)).max()) * 1.6, np.log(1.2))
            r.set_ylim(np.exp(-span), np.exp(span))
    handles = axes[0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=9)
    fig.suptitle(
        f"{' + '.join(_law_names(fit))}: compute-optimal allocation (C = 6ND)", fontsize=10
    )
    _finish(*axes)
    return fig, axes


@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
@one_group
def plot_tokens_per_param(
    fit: Fit,
    *,
    compute: Sequence[float] | None = None,
    ci_prob: float = CI_PROB,
    cards: Sequence[str | Card] = ("hoffmann2022",),
    rule: float | None = 20.0,
    mark: float | None = 5.88e23,
    ax: Any = None,
    label: str | None = None,
    color: str = "C0",
    fixed: Mapping[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Compute-optimal tokens per parameter D*/N* against compute, with a posterior band.

    The posterior median and central ``ci_prob`` interval of D*/N* are drawn over ``compute``;
    published fits (``cards``) are drawn as lines from their point values, and ``rule`` as a
    horizontal line (the "20 tokens per parameter" heuristic).

    Parameters
    ----------
    fit : Fit or StackedFit
        A fit of a law with N and D inputs.
    compute : sequence of float, optional
        FLOP budgets (default: 1e18 to 1e28, log-spaced).
    ci_prob : float
        Probability mass of the band.
    cards : sequence of str or Card
        Reference cards (names or loaded cards) to overlay, drawn from their point values;
        cards that cannot give an optimum (no N and D inputs, a missing parameter or fixed
        input) are skipped.
    rule : float or None
        Tokens-per-parameter rule of thumb to draw.
    mark : float or None
        A budget to mark with a vertical line (Chinchilla's 5.88e23 FLOPs).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    label : str, optional
        Legend name of the posterior curves.
    color : str
        Colour of the posterior curves.
    fixed : mapping, optional
        The law's inputs other than N and D, held fixed along C = 6ND (e.g. ``{"U": 25e9}``
        for ``data_constrained``); passed to :func:`~bayescale.compute_optimal` and used for
        the cards' lines.

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_tokens_per_param
    >>> fig, ax = plot_tokens_per_param(bs.testing.pinned_fit(random_seed=0))
    >>> ax.get_xscale()
    'log'
    """
    from .display import human

    fig, ax = _axes(ax)
    C = np.logspace(18, 28, 61) if compute is None else check_values("compute", compute)
    ratio = compute_optimal(fit, C, fixed=fixed)["tokens_per_param"]
    lo, mid, hi = _band(_draws(ratio.transpose("chain", "draw", "compute"), len(C)), ci_prob)
    card_points = [
        (card, point)
        for card in _cards_for(_law_names(fit), cards)
        if (point := _card_optimum(card, C, fixed)) is not None
    ]
    name = label or f"bayescale {' + '.join(_law_names(fit))} ({len(fit.data)} runs)"
    ax.fill_between(
        C, lo, hi, color=color, alpha=0.25, lw=0, label=f"{name}: {100 * ci_prob:g}% interval"
    )
    ax.plot(C, mid, color=color, lw=2, label=f"{name}: posterior median")
    for i, (card, point) in enumerate(card_points):
        ax.plot(
            C,
            point["D"] / point["N"],
            _CARD_STYLES[i % len(_CARD_STYLES)],
            color="0.25",
            lw=1.5,
            label=f"{card.name} point estimate",
        )
    if rule is not None:
        ax.axhline(rule, color="C3", lw=1, ls=":", label=f"{rule:g} tokens per parameter")
    if mark is not None:
        ax.axvline(mark, color="0.6", lw=0.8)
        ax.annotate(
            human(mark, "C"),
            (mark, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=9,
            color="0.4",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("compute-optimal tokens per parameter D*/N*")
    ax.set_title("Compute-optimal tokens per parameter", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    _legend_below(ax)
    _finish(ax)
    return fig, ax
