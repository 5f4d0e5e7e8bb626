"""``plot_params``: the posterior of each natural parameter, with the published cards' values.

Conventions as in :mod:`bayescale.plots` (which re-exports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._api import CI_PROB, deprecated_args
from ._plotting import _CARD_COLORS, _band, _cards_for, _law_names, _panels
from .cards import Card
from .fit import Fit
from .grouped import one_group

__all__ = ["plot_params"]


@deprecated_args(renamed={"prob": "ci_prob"})
@one_group
def plot_params(
    fit: Fit,
    *,
    var_names: Sequence[str] | None = None,
    cards: Sequence[str | Card] | None = None,
    ci_prob: float = CI_PROB,
    ax: Any = None,
    color: str = "C0",
) -> tuple[Any, Any]:
    """Marginal posterior of each parameter, with published values (cards) marked.

    Each panel shows a kernel density estimate of the draws (arviz-stats), the central ``ci_prob``
    interval shaded under it and the median as a line. A card's value is a marker on the axis,
    with its 95% interval as a horizontal bar where the card reports one.

    Parameters
    ----------
    fit : Fit
    var_names : sequence of str, optional
        Parameters to show (default: the law's natural parameters).
    cards : sequence of str or Card, optional
        Reference cards (names or loaded cards) to mark (default: every card of the fit's law).
    ci_prob : float
        Probability mass of the shaded interval.
    ax : sequence of matplotlib Axes, optional
        One axes per parameter.

    Returns
    -------
    fig, axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_params
    >>> fig, axes = plot_params(bs.testing.pinned_fit(random_seed=0))
    >>> len(axes)
    5
    """
    from arviz_stats.base import array_stats

    from .display import interval, number

    names = list(var_names or fit.law.natural_names)
    post = fit.posterior
    missing = [n for n in names if n not in post]
    if missing:
        raise KeyError(f"not in the posterior: {missing}; available: {list(post.data_vars)}")
    card_list = _cards_for(_law_names(fit), cards)
    descriptions = {p.name: p.description for p in fit.law.parameters}
    fig, axes = _panels(ax, len(names), 3, (3.6, 2.9))
    for name, a in zip(names, axes, strict=True):
        values = post[name].to_numpy().ravel()
        fixed = bool(np.ptp(values) == 0)
        if fixed:  # a parameter held fixed (e.g. an emergence floor): no density to draw
            lo = mid = hi = float(values[0])
            a.axvline(mid, color=color, lw=1.6, label="fixed value")
            top = 1.0
        else:
            grid, pdf, _ = array_stats.kde(values)
            grid, pdf = np.asarray(grid), np.asarray(pdf)
            lo, mid, hi = _band(values, ci_prob)
            a.plot(grid, pdf, color=color, lw=1.6, label="posterior")
            inside = (grid >= lo) & (grid <= hi)
            a.fill_between(
                grid[inside],
                0,
                pdf[inside],
                color=color,
                alpha=0.3,
                lw=0,
                label=f"{100 * ci_prob:g}% interval",
            )
            a.axvline(mid, color=color, lw=1, ls="-", alpha=0.8, label="posterior median")
            top = float(pdf.max())
        for i, card in enumerate(card_list):
            if name not in card.params:
                continue
            value = card.params[name]
            y = top * (0.12 + 0.1 * i)
            style = {"color": _CARD_COLORS[i % len(_CARD_COLORS)], "zorder": 3}
            if name in card.ci95:
                c_lo, c_hi = card.ci95[name]
                a.errorbar(
                    value,
                    y,
                    xerr=[[value - c_lo], [c_hi - value]],
                    fmt="v",
                    ms=6,
                    capsize=3,
                    label=card.name,
                    **style,
                )
            else:
                a.plot(value, y, "v", ms=7, label=card.name, **style)
        a.set_ylim(0, top * 1.1)
        a.set_yticks([])
        desc = descriptions.get(name) or fit.law.notes.get(name, "")
        a.set_xlabel(name if not desc or len(desc) > 40 else f"{name}: {desc}", fontsize=9)
        if fixed:
            a.set_title(f"{name} = {number(mid)} (fixed)", fontsize=9)
        else:
            a.set_title(f"{name} = {interval(mid, lo, hi)}", fontsize=9)
    handles = {}
    for a in axes:
        for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(len(handles), 4),
        fontsize=9,
    )
    fig.suptitle(f"{fit.law.name}: posterior of the parameters ({len(fit.data)} runs)", fontsize=10)
    return fig, axes
